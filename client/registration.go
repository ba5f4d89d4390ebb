package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
)

// Registration is a registered client as the server describes it: the client information
// response of RFC 7591 §3.2.1 and RFC 7592 §3, that is the metadata plus the credentials.
// ClientSecret and RegistrationAccessToken are secrets: they are encoded by encoding/json
// (so that callers can store them) but never printed by fmt or log/slog.
type Registration struct {
	Metadata

	// ClientID is the client identifier (REQUIRED).
	ClientID string
	// ClientSecret is the client secret; "" for public clients.
	ClientSecret string
	// ClientIDIssuedAt is when the client_id was issued, in seconds since the epoch; 0 = not
	// given.
	ClientIDIssuedAt int64
	// ClientSecretExpiresAt is when the secret expires, in seconds since the epoch; 0 = never
	// (RFC 7591 §3.2.1).
	ClientSecretExpiresAt int64
	// RegistrationAccessToken is the RFC 7592 token for reading, updating and deleting the
	// registration. Servers may rotate it on every read and update.
	RegistrationAccessToken string
	// RegistrationClientURI is the RFC 7592 client configuration endpoint.
	RegistrationClientURI string

	// ETag is the entity tag (RFC 9110 §8.8.3) the server sent with this registration, ""
	// when it sent none. Update sends it back as If-Match, so that a change made by someone
	// else since this read makes the server answer 412 ([ErrPreconditionFailed]) instead of
	// being silently overwritten. It is not part of the JSON form: it is only good until the
	// next change, so read before updating.
	ETag string
}

// WithoutSecrets returns a copy of r without the client secret and the registration access
// token, for storing or showing where secrets must not go.
func (r Registration) WithoutSecrets() Registration {
	r.ClientSecret = ""
	r.RegistrationAccessToken = ""
	return r
}

// MarshalJSON encodes r as a client information response: the credentials first, then the
// metadata. client_secret_expires_at is written whenever a secret is (RFC 7591 §3.2.1).
func (r Registration) MarshalJSON() ([]byte, error) {
	var w objectWriter
	str := func(k, v string) error {
		if v == "" {
			return nil
		}
		b, _ := marshal(v)
		return w.raw(k, b)
	}
	num := func(k string, v int64, always bool) error {
		if v == 0 && !always {
			return nil
		}
		return w.raw(k, fmt.Appendf(nil, "%d", v))
	}
	if err := errors.Join(
		str("client_id", r.ClientID),
		str("client_secret", r.ClientSecret),
		num("client_id_issued_at", r.ClientIDIssuedAt, false),
		num("client_secret_expires_at", r.ClientSecretExpiresAt, r.ClientSecret != ""),
		str("registration_access_token", r.RegistrationAccessToken),
		str("registration_client_uri", r.RegistrationClientURI),
	); err != nil {
		return nil, err
	}
	if err := r.Metadata.encode(&w); err != nil {
		return nil, err
	}
	return w.bytes(), nil
}

// UnmarshalJSON decodes a client information response.
func (r *Registration) UnmarshalJSON(data []byte) error {
	reg, _, err := parseRegistration(data)
	if err != nil {
		return err
	}
	*r = *reg
	return nil
}

// parseRegistration decodes a client information response and reports which of the
// registration members were present (and not null).
func parseRegistration(data []byte) (*Registration, map[string]bool, error) {
	var reg Registration
	if err := reg.Metadata.decode(data, registrationMembers); err != nil {
		return nil, nil, err
	}
	members, _, err := splitObject(data, registrationMembers, nil)
	if err != nil {
		return nil, nil, err
	}
	present := map[string]bool{}
	for k, v := range members {
		if string(v) == "null" {
			continue
		}
		present[k] = true
		var err error
		switch k {
		case "client_id":
			err = json.Unmarshal(v, &reg.ClientID)
		case "client_secret":
			err = json.Unmarshal(v, &reg.ClientSecret)
		case "registration_access_token":
			err = json.Unmarshal(v, &reg.RegistrationAccessToken)
		case "registration_client_uri":
			err = json.Unmarshal(v, &reg.RegistrationClientURI)
		case "client_id_issued_at":
			reg.ClientIDIssuedAt, err = epochSeconds(v)
		case "client_secret_expires_at":
			reg.ClientSecretExpiresAt, err = epochSeconds(v)
		}
		if err != nil {
			// Never echo the value: it may be a secret.
			return nil, nil, fmt.Errorf("member %q has the wrong type", k)
		}
	}
	return &reg, present, nil
}

// epochSeconds decodes a NumericDate; some servers send a float.
func epochSeconds(v json.RawMessage) (int64, error) {
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, err
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not a whole number of seconds")
	}
	return int64(f), nil
}

// ErrIncompleteResponse is wrapped by the error of a register, read or update whose response
// lacks a member the RFCs require. The error names the missing members; the Registration is
// returned with it, since the server has acted (see Register).
var ErrIncompleteResponse = errors.New("incomplete registration response")

// Register registers a client with full metadata at the registration endpoint (RFC 7591
// §3.1). initialAccessToken, when not "", is sent as an RFC 6750 Bearer token; "" is for
// servers with open registration.
//
// The server's answer must be 201 Created (200 OK is accepted too) with a JSON client
// information response (RFC 7591 §3.2.1) holding client_id, client_secret_expires_at
// whenever client_secret is issued, and registration_access_token and
// registration_client_uri together or not at all (RFC 7592 §3). When the response was
// decoded but lacks some of these, Register returns the Registration AND an error wrapping
// ErrIncompleteResponse: the server has created a client, and the caller decides whether
// to keep it or delete it. A server error is an *Error.
func (c *Client) Register(ctx context.Context, endpoint, initialAccessToken string, md Metadata) (*Registration, error) {
	reg, err := c.register(ctx, endpoint, initialAccessToken, md)
	if err != nil {
		return reg, fmt.Errorf("client: register: %w", err)
	}
	return reg, nil
}

// RegisterTemplate registers an instance of a template client configured on the server:
// the request is {"software_id": templateID} plus the members of extra (Curity's templatized
// DCR). The instance gets its own client_id and secret. extra.SoftwareID, if set, must equal
// templateID. Responses are handled as in Register.
func (c *Client) RegisterTemplate(ctx context.Context, endpoint, initialAccessToken, templateID string, extra Metadata) (*Registration, error) {
	if templateID == "" {
		return nil, errors.New("client: register: no template id given")
	}
	if extra.SoftwareID != "" && extra.SoftwareID != templateID {
		return nil, fmt.Errorf("client: register: template %q conflicts with software_id %q in the metadata: give one", templateID, extra.SoftwareID)
	}
	extra.SoftwareID = templateID
	return c.Register(ctx, endpoint, initialAccessToken, extra)
}

func (c *Client) register(ctx context.Context, endpoint, token string, md Metadata) (*Registration, error) {
	u, err := c.parseURL("registration endpoint", endpoint)
	if err != nil {
		return nil, err
	}
	if err := md.check(); err != nil {
		return nil, err
	}
	body, err := md.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding the metadata: %w", err)
	}
	r, err := c.do(ctx, http.MethodPost, u, token, body)
	if err != nil {
		return nil, err
	}
	// RFC 7591 §3.2.1: "the authorization server returns ... an HTTP 201 Created status
	// code"; 200 is accepted because some servers send it.
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		return nil, newError("register", r, token)
	}
	reg, present, err := decodeResponse(r)
	if err != nil {
		return nil, err
	}
	reg.ETag = r.header.Get("ETag")
	var missing []string
	// RFC 7591 §3.2.1: client_id "REQUIRED".
	if reg.ClientID == "" {
		missing = append(missing, "client_id (REQUIRED, RFC 7591 §3.2.1)")
	}
	return reg, checkResponse(reg, present, missing)
}

// checkResponse adds the checks common to every client information response.
func checkResponse(reg *Registration, present map[string]bool, missing []string) error {
	// RFC 7591 §3.2.1: client_secret_expires_at is "REQUIRED if "client_secret" is issued".
	if reg.ClientSecret != "" && !present["client_secret_expires_at"] {
		missing = append(missing, "client_secret_expires_at (REQUIRED when client_secret is issued, RFC 7591 §3.2.1)")
	}
	// RFC 7592 §3: registration_access_token and registration_client_uri are both REQUIRED
	// in a response from a server that supports management.
	switch {
	case reg.RegistrationAccessToken != "" && reg.RegistrationClientURI == "":
		missing = append(missing, "registration_client_uri (REQUIRED with registration_access_token, RFC 7592 §3)")
	case reg.RegistrationAccessToken == "" && reg.RegistrationClientURI != "":
		missing = append(missing, "registration_access_token (REQUIRED with registration_client_uri, RFC 7592 §3)")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: the server's response lacks %s; the server may have created the client anyway", ErrIncompleteResponse, strings.Join(missing, ", and "))
}

// decodeResponse checks the content type and decodes a client information response.
func decodeResponse(r *response) (*Registration, map[string]bool, error) {
	if err := r.checkJSON(); err != nil {
		return nil, nil, err
	}
	reg, present, err := parseRegistration(r.body)
	if err != nil {
		return nil, nil, fmt.Errorf("malformed client information response: %w", err)
	}
	return reg, present, nil
}

// Read fetches the registration as the server now holds it (RFC 7592 §2.1): GET at
// reg.RegistrationClientURI with reg.RegistrationAccessToken.
//
// The result carries whatever the server sent, rotated registration access token and client
// secret included: persist it before anything else. Members the server left out are taken
// from reg: the client secret (with its expiry) when the response has none, and likewise
// the registration access token, the registration client URI, client_id and
// client_id_issued_at. A response for another client_id is an error. When the response was
// decoded but is incomplete, Read returns the Registration with an error wrapping
// ErrIncompleteResponse, so that rotated credentials are never lost.
func (c *Client) Read(ctx context.Context, reg *Registration) (*Registration, error) {
	got, err := c.manage(ctx, "read", http.MethodGet, reg, nil)
	if err != nil {
		return got, fmt.Errorf("client: read: %w", err)
	}
	return got, nil
}

// Update replaces the registration's metadata with md (RFC 7592 §2.2): PUT at
// reg.RegistrationClientURI with the full metadata, reg.ClientID, and reg.ClientSecret when
// one is held. Fields left out of md are removed or reset by the server. The result is
// handled as in Read: persist it, it may carry a rotated token and secret.
//
// When reg.ETag is set (Read and Register fill it from the server's ETag), it is sent as
// If-Match (RFC 9110 §13.1.1): if the registration changed on the server since, the server
// answers 412 and Update returns an *Error matching [ErrPreconditionFailed]; nothing was
// changed, and the caller reads again, re-applies its change and retries.
//
// RFC 7592 §2.2: "The client MUST NOT include the registration_access_token,
// registration_client_uri, client_secret_expires_at, or client_id_issued_at fields in the
// request"; Update never sends them, even if md.Extra holds them.
func (c *Client) Update(ctx context.Context, reg *Registration, md Metadata) (*Registration, error) {
	body, err := updateRequest(reg, md)
	if err != nil {
		return nil, fmt.Errorf("client: update: %w", err)
	}
	got, err := c.manage(ctx, "update", http.MethodPut, reg, body)
	if err != nil {
		return got, fmt.Errorf("client: update: %w", err)
	}
	return got, nil
}

// updateRequest builds the RFC 7592 §2.2 request body.
func updateRequest(reg *Registration, md Metadata) ([]byte, error) {
	if reg == nil || reg.ClientID == "" {
		return nil, errors.New("the registration has no client_id")
	}
	if err := md.check(); err != nil {
		return nil, err
	}
	if len(md.Extra) > 0 {
		extra := make(map[string]json.RawMessage, len(md.Extra))
		for k, v := range md.Extra {
			if !registrationMembers[k] {
				extra[k] = v
			}
		}
		md.Extra = extra
	}
	// RFC 7592 §2.2: "The client MUST include its client_id field in the request, and it
	// MUST be the same as its currently issued client identifier. If the client includes
	// the client_secret field in the request, the value of this field MUST match the
	// currently issued client secret for that client."
	var w objectWriter
	id, _ := marshal(reg.ClientID)
	if err := w.raw("client_id", id); err != nil {
		return nil, err
	}
	if reg.ClientSecret != "" {
		s, _ := marshal(reg.ClientSecret)
		if err := w.raw("client_secret", s); err != nil {
			return nil, err
		}
	}
	if err := md.encode(&w); err != nil {
		return nil, fmt.Errorf("encoding the metadata: %w", err)
	}
	return w.bytes(), nil
}

// manage runs a read or update. body is the update's request, nil for a read.
func (c *Client) manage(ctx context.Context, op, method string, reg *Registration, body []byte) (*Registration, error) {
	u, err := c.managementURL(reg)
	if err != nil {
		return nil, err
	}
	ifMatch := ""
	if method == http.MethodPut {
		ifMatch = reg.ETag
	}
	r, err := c.doIfMatch(ctx, method, u, reg.RegistrationAccessToken, body, ifMatch)
	if err != nil {
		return nil, err
	}
	// RFC 7592 §2.1, §2.2: success is 200 OK with the client information response.
	if r.status != http.StatusOK {
		return nil, newError(op, r, reg.RegistrationAccessToken, reg.ClientSecret)
	}
	got, present, err := decodeResponse(r)
	if err != nil {
		return nil, err
	}
	got.ETag = r.header.Get("ETag")
	switch {
	case !present["client_id"]:
		got.ClientID = reg.ClientID
	case got.ClientID != reg.ClientID:
		return nil, fmt.Errorf("the server answered for client_id %q, not %q: refusing the response", got.ClientID, reg.ClientID)
	}
	if !present["client_secret"] {
		// A read "MAY" omit the secret (the server may not store it in the clear): the held
		// one stays current.
		got.ClientSecret = reg.ClientSecret
		if !present["client_secret_expires_at"] {
			got.ClientSecretExpiresAt = reg.ClientSecretExpiresAt
		}
		present["client_secret_expires_at"] = true
	}
	if !present["client_id_issued_at"] {
		got.ClientIDIssuedAt = reg.ClientIDIssuedAt
	}
	if !present["registration_access_token"] {
		got.RegistrationAccessToken = reg.RegistrationAccessToken
	}
	if !present["registration_client_uri"] {
		got.RegistrationClientURI = reg.RegistrationClientURI
	}
	return got, checkResponse(got, present, nil)
}

func (c *Client) managementURL(reg *Registration) (*url.URL, error) {
	if reg == nil {
		return nil, errors.New("no registration given")
	}
	if reg.RegistrationClientURI == "" {
		return nil, errors.New("the registration has no registration_client_uri: the server did not offer RFC 7592 management for this client")
	}
	if reg.RegistrationAccessToken == "" {
		return nil, errors.New("the registration has no registration_access_token: RFC 7592 calls need the token from the latest register, read or update")
	}
	return c.parseURL("registration client URI", reg.RegistrationClientURI)
}

// DeleteOption changes how Delete treats the server's answer.
type DeleteOption func(*deleteOptions)

type deleteOptions struct {
	unauthorizedIsDeleted bool
	gone                  *bool
}

// TreatUnauthorizedAsDeleted makes Delete succeed on 401 Unauthorized. RFC 7592 §2.3 has the
// server answer 401 for a client that no longer exists, so a retried delete (the first one
// succeeded but its answer was lost) sees 401. It also hides a genuinely wrong token: use it
// only when the caller is about to forget the registration anyway.
func TreatUnauthorizedAsDeleted() DeleteOption {
	return func(o *deleteOptions) { o.unauthorizedIsDeleted = true }
}

// ReportGone sets *gone to true when Delete succeeded only because of
// [TreatUnauthorizedAsDeleted]: the server deleted nothing now.
func ReportGone(gone *bool) DeleteOption {
	return func(o *deleteOptions) { o.gone = gone }
}

// Delete deprovisions the client (RFC 7592 §2.3): DELETE at reg.RegistrationClientURI with
// reg.RegistrationAccessToken. Success is 204 No Content, and leniently 200 OK.
func (c *Client) Delete(ctx context.Context, reg *Registration, opts ...DeleteOption) error {
	var o deleteOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := c.delete(ctx, reg, o); err != nil {
		return fmt.Errorf("client: delete: %w", err)
	}
	return nil
}

func (c *Client) delete(ctx context.Context, reg *Registration, o deleteOptions) error {
	u, err := c.managementURL(reg)
	if err != nil {
		return err
	}
	r, err := c.do(ctx, http.MethodDelete, u, reg.RegistrationAccessToken, nil)
	if err != nil {
		return err
	}
	switch {
	// RFC 7592 §2.3: "If a client has been successfully deprovisioned, the authorization
	// server MUST respond with an HTTP 204 No Content message."
	case r.status == http.StatusNoContent || r.status == http.StatusOK:
		return nil
	case r.status == http.StatusUnauthorized && o.unauthorizedIsDeleted:
		if o.gone != nil {
			*o.gone = true
		}
		return nil
	}
	return newError("delete", r, reg.RegistrationAccessToken, reg.ClientSecret)
}
