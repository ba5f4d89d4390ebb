package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/dcrctl/dcrctl/client"
)

// ErrIDToken is wrapped by the error of a flow that received an ID token that does not
// verify (OpenID Connect Core 1.0 §3.1.3.7): bad signature, unknown key, wrong iss or aud,
// expired, or a nonce other than the one sent. The token response is not returned.
var ErrIDToken = errors.New("the ID token does not verify")

// idTokenAlgs are the signature algorithms accepted on an ID token: asymmetric only, so that
// the keys come from the issuer's jwks_uri; "none" and HMAC are refused.
var idTokenAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// idTokenLeeway is the clock skew allowed on exp, nbf and iat.
const idTokenLeeway = time.Minute

// idTokenCheck is what an ID token must match.
type idTokenCheck struct {
	issuer, jwksURI, clientID, nonce string
	now                              time.Time
}

// verifyIDToken checks raw as OpenID Connect Core 1.0 §3.1.3.7 asks: the signature with a
// key from the issuer's jwks_uri (an asymmetric algorithm; the header's kid selects the key
// when there is one), iss equal to the issuer, the client id among aud (and equal to azp when
// there are several audiences), exp in the future, and nonce equal to the one sent, if any.
func verifyIDToken(ctx context.Context, hc *http.Client, raw string, c idTokenCheck) error {
	if c.issuer == "" || c.jwksURI == "" {
		return fmt.Errorf("%w: the issuer or its jwks_uri is unknown, so it cannot be checked: give the issuer, whose discovery document names jwks_uri", ErrIDToken)
	}
	tok, err := jwt.ParseSigned(raw, idTokenAlgs)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIDToken, err)
	}
	set, err := fetchJWKS(ctx, hc, c.jwksURI)
	if err != nil {
		return err
	}
	var claims jwt.Claims
	var extra struct {
		Nonce *string `json:"nonce"`
		AZP   string  `json:"azp"`
	}
	if err := verifyWithKeys(tok, set, &claims, &extra); err != nil {
		return err
	}
	// OpenID Connect Core §3.1.3.7 (2), (3), (9): iss, aud, exp.
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: c.issuer, AnyAudience: jwt.Audience{c.clientID}, Time: c.now}, idTokenLeeway); err != nil {
		return fmt.Errorf("%w: %v (iss %q, aud %q)", ErrIDToken, err, claims.Issuer, []string(claims.Audience))
	}
	if claims.Expiry == nil {
		return fmt.Errorf("%w: it has no exp (REQUIRED, OpenID Connect Core §2)", ErrIDToken)
	}
	// §3.1.3.7 (4), (5): with several audiences, azp should be present and name this client.
	if len(claims.Audience) > 1 && extra.AZP != c.clientID {
		return fmt.Errorf("%w: it has several audiences and azp %q is not this client", ErrIDToken, extra.AZP)
	}
	// §3.1.2.1 / §3.1.3.7 (11): the nonce sent must come back unchanged.
	if c.nonce != "" && (extra.Nonce == nil || *extra.Nonce != c.nonce) {
		return fmt.Errorf("%w: its nonce is not the one this login sent (a replayed or injected token)", ErrIDToken)
	}
	return nil
}

// verifyWithKeys checks tok's signature with the keys of set that may have made it, and
// decodes its claims into dst.
func verifyWithKeys(tok *jwt.JSONWebToken, set *jose.JSONWebKeySet, dst ...any) error {
	if len(tok.Headers) != 1 {
		return fmt.Errorf("%w: want one signature", ErrIDToken)
	}
	h := tok.Headers[0]
	keys := set.Keys
	if h.KeyID != "" {
		keys = set.Key(h.KeyID)
	}
	for _, k := range keys {
		if !k.IsPublic() || k.Use != "" && k.Use != "sig" || k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		if err := tok.Claims(k.Key, dst...); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: no key of the issuer's jwks_uri (kid %q, alg %s) verifies its signature", ErrIDToken, h.KeyID, h.Algorithm)
}

// fetchJWKS reads the issuer's JWK Set (RFC 7517 §5).
func fetchJWKS(ctx context.Context, hc *http.Client, uri string) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: jwks_uri: %v", ErrIDToken, err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the issuer's keys for the ID token: %s", client.RedactError(err))
	}
	defer drain(resp.Body)
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("fetching the issuer's keys for the ID token: %w", err)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil, fmt.Errorf("fetching the issuer's keys for the ID token: %s answered %d with %q, want a JSON JWK Set", uri, resp.StatusCode, mt)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("the issuer's jwks_uri does not hold a JWK Set: %w", err)
	}
	return &set, nil
}

// checkIDToken verifies t.IDToken, when there is one, for a flow whose endpoints are ep,
// discovering the issuer's jwks_uri first when the caller gave the endpoints itself. Times
// are checked against the system clock, which the server's tokens follow (a flow's Now only
// sets Token.Expiry).
func checkIDToken(ctx context.Context, hc *http.Client, op string, t *Token, ep endpoints, clientID, nonce string) error {
	if t.IDToken == "" {
		return nil
	}
	if ep.jwksURI == "" && ep.issuer != "" {
		if md, err := (&client.Client{HTTPClient: hc}).Discover(ctx, ep.issuer); err == nil {
			ep.jwksURI = md.JWKSURI
		}
	}
	if err := verifyIDToken(ctx, hc, t.IDToken, idTokenCheck{issuer: ep.issuer, jwksURI: ep.jwksURI, clientID: clientID, nonce: nonce, now: time.Now()}); err != nil {
		return fmt.Errorf("flows: %s: %w", op, err)
	}
	return nil
}
