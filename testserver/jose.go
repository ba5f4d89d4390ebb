package testserver

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
)

// signJWT returns a compact JWS (RFC 7515) of claims, signed RS256 with the server key.
func (s *Server) signJWT(typ string, claims any) (string, error) {
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": s.kid, "typ": typ})
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	in := b64(hdr) + "." + b64(body)
	h := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, h[:])
	if err != nil {
		return "", err
	}
	return in + "." + b64(sig), nil
}

// parseJWS splits a compact JWS and decodes its header and claims without verifying it.
func parseJWS(tok string) (hdr map[string]any, claims map[string]json.RawMessage, signed string, sig []byte, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, "", nil, errors.New("not a compact JWS (three base64url parts separated by dots)")
	}
	dec := func(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
	hb, err1 := dec(parts[0])
	cb, err2 := dec(parts[1])
	sig, err3 := dec(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, nil, "", nil, errors.New("a part is not unpadded base64url")
	}
	if json.Unmarshal(hb, &hdr) != nil || hdr == nil {
		return nil, nil, "", nil, errors.New("the header is not a JSON object")
	}
	if json.Unmarshal(cb, &claims) != nil || claims == nil {
		return nil, nil, "", nil, errors.New("the payload is not a JSON object")
	}
	return hdr, claims, parts[0] + "." + parts[1], sig, nil
}

// verifyJWS checks an RS256 or HS256 signature with key: "hs256:SECRET" or a PEM public key.
func verifyJWS(alg, key, signed string, sig []byte) error {
	h := sha256.Sum256([]byte(signed))
	if secret, ok := strings.CutPrefix(key, "hs256:"); ok {
		if alg != "HS256" {
			return errors.New("the issuer's key is HS256 but the statement is " + alg)
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(signed))
		if !hmac.Equal(m.Sum(nil), sig) {
			return errors.New("the signature does not verify")
		}
		return nil
	}
	if alg != "RS256" {
		return errors.New("the issuer's key is RS256 but the statement is " + alg)
	}
	blk, _ := pem.Decode([]byte(key))
	if blk == nil {
		return errors.New("the configured key of the issuer is not PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return errors.New("the configured key of the issuer is not a PKIX public key")
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return errors.New("the configured key of the issuer is not RSA")
	}
	if rsa.VerifyPKCS1v15(rk, crypto.SHA256, h[:], sig) != nil {
		return errors.New("the signature does not verify")
	}
	return nil
}
