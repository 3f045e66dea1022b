// The runtime version plugins declare compatibility with ("pcapflow": { "runtime": "^0.1.0" }).
export const RUNTIME_VERSION: string = require('../../package.json').version;
