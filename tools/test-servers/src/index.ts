export { startPostgres } from './postgres';
export { startMariadb } from './mariadb';
export { freePort } from './free-port';
