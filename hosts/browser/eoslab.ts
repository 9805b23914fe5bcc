// build/web/eoslab.js: the ES module a page imports to get <eoslab-experiment>
// (README "The web page"). eoslab-worker.js and wasm-worker.js must be served
// beside it, from the same origin.
import { defineExperimentElement } from './page/element.js';

export { EoslabExperiment, type ExperimentStatus } from './page/element.js';
export { normalizeConfig, cliCommand } from './page/config.js';
export { PRESETS, syntheticImagesNpz } from './page/presets.js';

defineExperimentElement();
