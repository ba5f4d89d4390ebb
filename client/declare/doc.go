// Package declare keeps dynamically registered clients in a desired state written in a file:
// the registrations that should exist, by local name, at one or more authorization servers.
// It is the engine behind dcrctl plan, apply and export.
//
//   - Parse reads the file (YAML or JSON; schema.json is its JSON Schema, Schema returns it).
//     A secret never stands in it: the initial access token comes from a profile's flow or
//     from a file or environment variable the file names, and a key that holds a secret
//     inline is refused with its line.
//   - Engine.Plan compares each entry with the server's current registration, read with RFC
//     7592 §2.1 through the registrar (so that a server that rotates credentials on read has
//     them stored), and says create, update (with a member-by-member diff, secret values left
//     out), unchanged, or — with prune — delete for stored credentials of the file's issuers
//     that it no longer lists.
//   - Engine.Apply carries a plan out through package registrar: RFC 7591 registration, RFC
//     7592 §2.2 full replacement, RFC 7592 §2.3 delete, each credential stored as the
//     registrar stores it and each operation under the credential's lock, so that concurrent
//     applies on one machine do not interleave on a credential. It goes on past a failing
//     entry and reports each.
//   - Export writes the file for what is stored, without secrets, so that applying it
//     changes nothing.
//
// Drift. RFC 7591 §3.2.1 lets a server "reject or replace any of the client's requested
// metadata values": a template instance ignores its scope, a server adds defaults. Such a
// member is not drift for ever: the registrar records with each credential what the last
// request sent and which members the server did not take (registrar.LastRequest). A member
// whose desired value is the one last sent, and whose current value is what the server
// answered then, is reported as not kept by the server (Step.NotKept), not as a change. A
// member that the file does not name and that was not sent either (a server default) is
// not compared. A registration without RFC 7592 management can be created, never updated or
// deleted: the plan says so (Step.Blocked).
package declare
