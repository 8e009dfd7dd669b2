/** The `nats-server -js` launcher: shared with the demo, which starts one when no server answers. */
export { freePort, startNatsServer, type NatsServer } from '../../examples/demo/nats-server.js';
