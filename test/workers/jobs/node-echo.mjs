// The one type of this directory that Relay's own worker runs, next to the workers in other languages.
export default {
  name: 'node-echo',
  input: { type: 'object', properties: { payload: { title: 'Payload' } }, required: ['payload'] },
  async handler({ payload }) {
    return payload;
  },
};
