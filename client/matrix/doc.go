// Package matrix holds only tests: the SDK (package client, with flows for tokens) run
// against every behaviour profile of dcrctl's own server (testserver.Profiles), and against
// the faults its control API injects. Each profile's behaviour is either handled by the SDK
// or refused with an error that names what the server did.
//
// It lives apart from package client because it imports both sides: testserver never
// imports client, and client imports testserver only in tests.
package matrix
