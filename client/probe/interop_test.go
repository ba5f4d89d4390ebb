package probe_test

import (
	"context"
	"slices"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/interop"
	"github.com/dcrctl/dcrctl/client/probe"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// probeOIDCProvider probes a running node-oidc-provider with its bootstrap client's tokens.
func probeOIDCProvider(t *testing.T, op *interop.OIDCProvider) *probe.Report {
	t.Helper()
	cc := func(scopes []string) probe.TokenSource {
		return func(ctx context.Context, md *client.ServerMetadata) (string, error) {
			tok, err := flows.ClientCredentials{Issuer: md.Issuer, TokenURL: md.TokenEndpoint, ClientID: op.BootstrapClientID,
				ClientSecret: op.BootstrapClientSecret, Scopes: scopes}.Token(ctx)
			if err != nil {
				return "", err
			}
			return tok.AccessToken, nil
		}
	}
	rep, err := probe.Run(context.Background(), probe.Options{URL: op.Issuer, InitialToken: cc([]string{"dcr"}), TokenWithoutDCR: cc([]string{})})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// oidcProviderBehaviour is what node-oidc-provider (the version pinned in
// client/interop/testdata/oidc-provider, configured by its server.mjs) is known to do.
var oidcProviderBehaviour = map[string]outcome{
	"discovery":             {probe.Yes, "exact"},
	"metadata_members":      {probe.Yes, ""},
	"protected_resource":    {probe.Skipped, ""},
	"registration_endpoint": {probe.Yes, "/reg"},
	"registration_mode":     {probe.Yes, "protected"},
	// A token without dcr is no initial access token to it: 401 invalid_token, never 403.
	"insufficient_scope": {probe.No, "401"},
	// server.mjs makes dcr-scoped access tokens single-use initial access tokens.
	"initial_token_reuse": {probe.No, ""},
	"status_code":         {probe.Yes, "201"},
	"response_shape":      {probe.Yes, ""},
	"null_members":        {probe.No, ""},
	// Its own defaults, echoed for every client.
	"response_extras": {probe.Yes, "dpop_bound_access_tokens,id_token_signed_response_alg,post_logout_redirect_uris,require_auth_time,require_pushed_authorization_requests,subject_type"},
	// Unknown members are stripped (RFC 7591 §2), and so is every member outside
	// extraClientMetadata.properties: x_dcrctl_probe and client_name#de.
	"unknown_metadata":           {probe.Yes, "stripped"},
	"lang_tags":                  {probe.No, "stripped"},
	"vendor_members":             {probe.No, "stripped"},
	"defaults_applied":           {probe.Yes, ""},
	"grant_response_consistency": {probe.Yes, ""},
	"native_loopback":            {probe.Yes, "127.0.0.1,[::1],localhost"},
	"private_use_scheme":         {probe.Yes, ""},
	"redirect_uri_validation":    {probe.Yes, ""},
	"loopback_any_port":          {probe.Yes, ""},
	"pkce_s256":                  {probe.Yes, ""},
	"pkce_plain":                 {probe.No, ""},
	"pkce_required":              {probe.Yes, ""},
	"iss_parameter":              {probe.Yes, ""},
	"cors_registration":          {probe.No, ""}, // clientBasedCORS: () => false
	"cimd":                       {probe.No, ""},
	"rfc7592":                    {probe.Yes, "read,update,delete"},
	// rotateRegistrationAccessToken: rotated on PUT, never on GET; the secret never.
	"rat_rotation_on_read":      {probe.No, ""},
	"rat_rotation_on_update":    {probe.Yes, ""},
	"secret_rotation_on_read":   {probe.No, ""},
	"secret_rotation_on_update": {probe.No, ""},
	"get_omits_secret":          {probe.No, ""}, // it stores the secret and shows it on GET
	"update_full_replacement":   {probe.Yes, ""},
	"delete_revokes_tokens":     {probe.Yes, ""},
	// It does not validate software statements: an unsigned one is accepted.
	"software_statements": {probe.No, "ignored"},
}

// TestProbeNodeOIDCProvider probes node-oidc-provider, a certified third-party server: the
// report is its known behaviour, check by check (strips unknown members, rotates the
// registration access token on PUT, 401 for a token without dcr), it leaves no client
// behind, and it has no violation.
func TestProbeNodeOIDCProvider(t *testing.T) {
	op := interop.StartOIDCProvider(t, interop.OIDCProviderOptions{})
	rep := probeOIDCProvider(t, op)
	if d := diff(rep, outcomes(rep), oidcProviderBehaviour); d != "" {
		t.Errorf("report differs from node-oidc-provider's known behaviour:%s", d)
	}
	if len(rep.Registered) != 2 || len(rep.Undeleted) != 0 || rep.Violations() != 0 {
		t.Errorf("registered %v, undeleted %v, %d violations; want 2, none, 0", rep.Registered, rep.Undeleted, rep.Violations())
	}
}

// emulationGaps are the checks where dcrctl serve --behave-like oidc-provider and the real
// node-oidc-provider differ, each with why: what the profile does not (yet) emulate.
var emulationGaps = map[string]string{
	"software_statements":     "dcrctl serve always validates statements; the real server ignores them",
	"get_omits_secret":        "dcrctl serve keeps only a hash of the secret, so GET cannot show it; the real server shows it",
	"secret_rotation_on_read": "follows from get_omits_secret: a read without the secret cannot show a rotation",
}

// TestProbeEmulationFidelity probes the real node-oidc-provider and dcrctl serve behaving
// like it: they must differ in exactly the checks of emulationGaps. A profile fix or a new
// difference fails the test, so the list stays true.
func TestProbeEmulationFidelity(t *testing.T) {
	op := interop.StartOIDCProvider(t, interop.OIDCProviderOptions{})
	real := outcomes(probeOIDCProvider(t, op))
	srv := servertest.Start(t, func(c *testserver.Config) { c.BehaveLike = "oidc-provider" })
	emu := outcomes(probeServer(t, srv))
	var differ []string
	for _, id := range probe.IDs() {
		if real[id] != emu[id] {
			differ = append(differ, id)
			if _, known := emulationGaps[id]; !known {
				t.Errorf("%s: node-oidc-provider %s, dcrctl serve --behave-like oidc-provider %s", id, real[id], emu[id])
			}
		}
	}
	for id := range emulationGaps {
		if !slices.Contains(differ, id) {
			t.Errorf("%s no longer differs: remove it from emulationGaps", id)
		}
	}
}
