export { main, buildProgram } from './main';
export { EXIT } from './exit-codes';
