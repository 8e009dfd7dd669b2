export { loadSagas } from './load-sagas.js';
export { defaultStoreUrl, maskStoreUrl, openStore } from './store-url.js';
export { startTracingFromEnv, type Tracing } from './tracing.js';
