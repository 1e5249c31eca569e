/**
 * Request authorizations: the highest nonce the channel's user has signed a paid request with. A request's
 * authorization must carry a higher nonce; it is raised in the same statement that reserves the request's fee.
 */
export default {
  version: 7,
  name: 'request_authorizations',
  sql: `
    ALTER TABLE channels ADD COLUMN auth_nonce numeric(78, 0) NOT NULL DEFAULT 0;
  `,
};
