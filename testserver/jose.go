package testserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// JOSE (RFC 7515 JWS, RFC 7517 JWK, RFC 7519 JWT) is done by go-jose: ID tokens are signed
// RS256 with the server key, published in the JWKS under its RFC 7638 thumbprint, and
// software statements (RFC 7591 §2.3) are verified with the key configured for their issuer.

// useKey sets the signing key, its key id, the JWKS document and the ID token signer.
func (s *Server) useKey(key *rsa.PrivateKey) error {
	pub := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("signing key thumbprint: %w", err)
	}
	pub.KeyID = b64(tp)
	if s.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}}); err != nil {
		return fmt.Errorf("encode the JWKS: %w", err)
	}
	s.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return fmt.Errorf("ID token signer: %w", err)
	}
	s.key, s.kid = key, pub.KeyID
	return nil
}

// signJWT returns a compact JWS of claims, signed RS256 with the server key.
func (s *Server) signJWT(claims any) (string, error) {
	s.keyMu.RLock()
	signer := s.signer
	s.keyMu.RUnlock()
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// statementAlgs are the signature algorithms a software statement may use; "none" is not
// one of them, so an unsigned statement does not parse.
var statementAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.HS256}

// stmtKey is the verification key configured for a software statement issuer and the one
// algorithm it may be used with (so that an RSA public key can never be used as an HMAC
// secret, or the other way round).
type stmtKey struct {
	key any
	alg jose.SignatureAlgorithm
}

// statementKeys parses Config.SoftwareStatementIssuers.
func statementKeys(issuers map[string]string) (map[string]stmtKey, error) {
	keys := make(map[string]stmtKey, len(issuers))
	for iss, cfg := range issuers {
		k, err := statementKey(cfg)
		if err != nil {
			return nil, fmt.Errorf("software_statement_issuers[%q]: %w", iss, err)
		}
		keys[iss] = k
	}
	return keys, nil
}

func statementKey(cfg string) (stmtKey, error) {
	if secret, ok := strings.CutPrefix(cfg, "hs256:"); ok {
		if len(secret) < 32 {
			// RFC 7518 §3.2: a key of the same size as the hash output or larger MUST be used.
			return stmtKey{}, fmt.Errorf("the hs256 secret has %d bytes; HS256 needs at least 32 (RFC 7518 §3.2)", len(secret))
		}
		return stmtKey{[]byte(secret), jose.HS256}, nil
	}
	blk, _ := pem.Decode([]byte(cfg))
	if blk == nil {
		return stmtKey{}, errors.New("the key is neither a PEM public key nor hs256:SECRET")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return stmtKey{}, errors.New("the PEM block is not a PKIX public key")
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return stmtKey{k, jose.RS256}, nil
	case *ecdsa.PublicKey:
		return stmtKey{k, jose.ES256}, nil
	}
	return stmtKey{}, errors.New("the public key is neither RSA (RS256) nor ECDSA P-256 (ES256)")
}

// softwareStatement verifies a software statement (RFC 7591 §2.3) and returns its claims.
// RFC 7591 §3.2.2: a statement that is malformed, unsigned or badly signed, or outside its
// validity period, is invalid_software_statement; one from an issuer this server does not
// trust is unapproved_software_statement.
func (v *validator) softwareStatement(stmt string) (map[string]json.RawMessage, error) {
	invalid := func(format string, args ...any) error {
		return badRequest(errInvalidSoftwareStmt, "software_statement "+format, args...)
	}
	tok, err := jwt.ParseSigned(stmt, statementAlgs)
	if err != nil {
		return nil, invalid("is not a JWS signed with one of RS256, PS256, ES256 or HS256 (an unsigned alg none statement is refused): %v", joseReason(err))
	}
	if len(tok.Headers) != 1 {
		return nil, invalid("must have exactly one signature")
	}
	if _, ok := tok.Headers[0].ExtraHeaders["crit"]; ok {
		// RFC 7515 §4.1.11: a JWS with a critical extension the recipient does not
		// understand is invalid. This server understands none.
		return nil, invalid("uses a critical header extension (crit), which this server does not support")
	}
	var unverified struct {
		Issuer string `json:"iss"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, invalid("payload is not a JSON object of claims: %v", joseReason(err))
	}
	if unverified.Issuer == "" {
		// RFC 7591 §2.3: the software statement MUST contain an "iss" claim.
		return nil, invalid("has no iss claim: the issuer must sign it with iss set")
	}
	iss := unverified.Issuer
	k, ok := v.issuers[iss]
	if !ok {
		return nil, badRequest(errUnapprovedSoftwareStmt, "software statements from issuer %q are not trusted by this server: add it to software_statement_issuers", iss)
	}
	if got := tok.Headers[0].Algorithm; got != string(k.alg) {
		return nil, invalid("from %q is signed %s, but the key configured for its issuer is %s", iss, got, k.alg)
	}
	var claims map[string]json.RawMessage
	var std jwt.Claims
	if err := tok.Claims(k.key, &claims, &std); err != nil {
		return nil, invalid("from %q: the signature does not verify with the issuer's key", iss)
	}
	now := time.Now
	if v.now != nil {
		now = v.now
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Time: now()}, jwt.DefaultLeeway); err != nil {
		return nil, invalid("from %q is not valid now: %v", iss, joseReason(err))
	}
	return claims, nil
}

// joseReason is go-jose's error message without its package prefix.
func joseReason(err error) string {
	m := err.Error()
	for _, p := range []string{"go-jose/go-jose/jwt: ", "go-jose/go-jose: "} {
		m = strings.TrimPrefix(m, p)
	}
	return m
}
