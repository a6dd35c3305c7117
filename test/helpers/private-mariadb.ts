// The helper lives in bench/ (the follow benchmark starts one too); tests import it from here.
export { startPrivateMariadb, type PrivateMariadb } from '../../bench/private-mariadb.js';
