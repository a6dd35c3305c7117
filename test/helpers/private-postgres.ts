// The helper lives in bench/ beside the private MariaDB; tests import it from here.
export { startPrivatePostgres, type PrivatePostgres } from '../../bench/private-postgres.js';
