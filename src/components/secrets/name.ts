/**
 * The component holding the deployment's secret files (docker/.env, docker/keys): the one a
 * split backup (--split-secrets) writes into an archive of its own, and whose restore brings back
 * the keys MongoDB's data was encrypted with.
 */
export const SECRETS = 'secrets';
