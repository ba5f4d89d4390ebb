//go:build linux

package keystore

import (
	"errors"
	"testing"
)

// TestDescribeRealKeyring: against the real Secret Service the "os" store answers, and the
// probe leaves no entry behind; the store also renames without touching the keyring.
func TestDescribeRealKeyring(t *testing.T) {
	st, service := realKeyring(t)
	ctx := ctxT(t)
	d := st.Describe(ctx)
	if d.Err != nil || d.Kind != KindOS || d.Secrets != `the OS keyring, service "`+service+`"` {
		t.Fatalf("Describe = %+v", d)
	}
	if _, err := st.vault.get(ctx, statusProbe); !errors.Is(err, errEntryMissing) {
		t.Errorf("probe entry: %v, want it absent", err)
	}
}
