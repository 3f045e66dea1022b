export { startPostgres, type PostgresServer, type StartPostgresOptions } from './postgres';
export { startMariadb, type MariadbServer } from './mariadb';
export { freePort } from './free-port';
