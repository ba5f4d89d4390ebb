// Package bench is the load engine behind `dcrctl bench`: it plays N installations of a
// native app against an authorization server, each the sequence
//
//   - token: an initial access token from the client credentials grant with scope dcr
//     (RFC 6749 §4.4, RFC 7591 §3 "initial access token"), or one reusable token given in
//     [Config.InitialToken];
//   - register: RFC 7591 §3.1 registration, from a template (`{"software_id": T}`) or full
//     client metadata (RFC 7591 §2);
//   - login: a client credentials token as the new instance (RFC 6749 §4.4), with the secret
//     the registration issued;
//   - read: RFC 7592 §2.1 read with the registration access token (a rotated token or
//     secret is kept for the next step);
//   - delete: RFC 7592 §2.3 delete,
//
// and reports, per step, requests, errors by HTTP status and OAuth error code (RFC 6749 §5.2,
// RFC 7591 §3.2.2, RFC 6750 §3.1), throughput, latency quantiles and a latency [Histogram];
// and overall installations per second.
//
// # Measurement
//
// Closed loop ([Config.Rate] = 0): [Config.Concurrency] workers each run installations back to
// back. Open loop (Rate > 0): installation i is due at start + i/Rate; a worker (at most
// Concurrency run at once) starts it when it is due, or as soon as it is free if it is late,
// and the first step's latency is measured from the due time, not from the actual send,
// so that a stalled server cannot hide its stall by slowing the generator (no coordinated
// omission). Later steps of an installation follow their predecessor at once, so their
// intended and actual send times agree. Latency counts every answered request, errors too.
//
// The measured requests go through a lean path of this package, the same requests on the
// wire as the SDK's, decoding only what the next step needs, so that the generator spends
// less CPU per request than the server (discovery and the cleanup use package client).
// Every worker has its own HTTP transport with a single keep-alive connection, timeouts for
// dialling, the TLS handshake, the response headers and the whole request, and no proxy.
//
// # Bounds and cleanup
//
// A run stops starting requests at the first of: [Config.Installs] installations started,
// [Config.Duration] elapsed, [Config.MaxRequests] requests sent, or the context cancelled
// (requests in flight then get a short grace period to finish, so that the clients they
// create are known and can be deleted). Afterwards every client the run registered and did not
// delete in its delete step is deleted with RFC 7592 §2.3, unless [Config.Keep]; the
// [Report] lists those that could not be deleted.
//
// Secrets (tokens, client secrets, registration access tokens) never appear in the report,
// in progress lines or in errors.
package bench
