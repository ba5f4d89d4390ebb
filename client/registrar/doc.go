// Package registrar keeps dynamically registered clients: it joins a *client.Client (the
// RFC 7591 / RFC 7592 protocol) and a keystore.Store (where credentials live) and offers
// Register, Read, Update, Delete and Import on a named credential, with one guarantee that
// neither package can give alone: nothing the server issues is lost.
//
//   - Persist before returning. RFC 7592 §2.1: "If the authorization server includes a new
//     client secret and/or registration access token in its response, the client MUST
//     immediately discard its previous client secret and/or registration access token" —
//     every operation stores what the server returned before it returns.
//   - Roll back or recover. RFC 7591 registration is not transactional: the server may
//     answer 201 Created and the store then fail. Register then writes a recovery file
//     (keystore.WriteRecovery, mode 0600) and rolls the registration back with an RFC 7592
//     §2.3 delete; the file is removed when the delete succeeds and kept (its path in the
//     error) when it does not. A read or update whose rotated credential cannot be stored
//     leaves it in a recovery file, since the old one may already be dead.
//   - One operation at a time per credential. Read and Update hold the credential's lock
//     (keystore.Locker: across processes for the "os" and "file" stores) across the whole
//     load → RFC 7592 call → store sequence, so two concurrent updates of one credential
//     both land, one after the other, instead of one silently overwriting the other or
//     working from a registration access token that has just been rotated.
//   - Remember what was asked. Register and Update store with the credential what the request
//     sent (secrets redacted) and which members the server did not take as sent
//     (LastRequest, from Compare): RFC 7591 §3.2.1 lets a server "substitute them with
//     suitable values", and a caller comparing desired metadata with the server's (package
//     declare) must tell such a rewrite from a change made since.
//
// Errors are library errors: they say what happened in protocol and storage terms and are
// typed (StoreError, NameTakenError, ClientIDTakenError, NotManagedError, ForgetError) so
// that a command line can add its own advice.
//
// A Store of nil is allowed for Register only: the registration is returned and nothing is
// kept (the caller must then keep the secrets itself).
package registrar
