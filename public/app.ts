const form = document.querySelector<HTMLFormElement>('#echo-form')!;
const list = document.querySelector<HTMLOListElement>('#events')!;

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = await fetch(form.action, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ payload: (form.elements.namedItem('payload') as HTMLInputElement).value }),
  });
  const body = await res.json();
  if (res.status !== 202) return show(`error: ${body.error?.message}`);
  const source = new EventSource(body.events_url);
  for (const name of ['status', 'progress', 'result', 'failed']) {
    source.addEventListener(name, (ev) => {
      show(`${name}: ${(ev as MessageEvent).data}`);
      if (name === 'result' || name === 'failed') source.close();
    });
  }
});

function show(text: string): void {
  const li = document.createElement('li');
  li.textContent = text;
  list.append(li);
}
