// Authentication for the apiserver: the token file, the authenticator, and `kubectl auth whoami`.
export * from './token-file.js';
export * from './authenticator.js';
export * from './self-subject-review.js';
export * from './authorizer.js';
export * from './reviews.js';
export * from './impersonation.js';
export * from './filter.js';
export * from './request-attributes.js';
