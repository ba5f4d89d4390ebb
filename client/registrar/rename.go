package registrar

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dcrctl/dcrctl/keystore"
)

// Rename gives the credential called oldName the name newName, holding both names' locks so
// that no read, update or login of either runs meanwhile. A stored newName is refused with a
// *NameTakenError; the registration at the server is not touched (the name is local). A
// store that is a keystore.Renamer renames in one step without reading the secrets; any
// other is given the credential under the new name, then loses the old one (and, should that
// fail, the new one again, so that two names never share one registration access token).
func (r *Registrar) Rename(ctx context.Context, oldName, newName string) error {
	if !ValidName(newName) {
		return fmt.Errorf("registrar: credential name %q: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit", newName)
	}
	if oldName == newName {
		return &NameTakenError{Name: newName}
	}
	first, second := oldName, newName
	if strings.Compare(first, second) > 0 { // one order for every caller: no deadlock
		first, second = second, first
	}
	for _, n := range []string{first, second} {
		unlock, err := r.lock(ctx, n)
		if err != nil {
			return err
		}
		defer unlock()
	}
	if err := r.checkFree(ctx, newName); err != nil {
		return err
	}
	if rn, ok := r.store.(keystore.Renamer); ok {
		err := rn.Rename(ctx, oldName, newName)
		if errors.Is(err, keystore.ErrExists) {
			return &NameTakenError{Name: newName}
		}
		return err
	}
	cred, err := r.store.Get(ctx, oldName)
	if err != nil {
		return err
	}
	cred.Name = newName
	if err := r.store.Put(ctx, cred); err != nil {
		return err
	}
	if err := r.store.Delete(ctx, oldName); err != nil {
		if derr := r.store.Delete(context.WithoutCancel(ctx), newName); derr != nil {
			return fmt.Errorf("registrar: rename: stored as %q but could not remove %q (%w), nor %q again (%v): forget one of them", newName, oldName, err, newName, derr)
		}
		return fmt.Errorf("registrar: rename: could not remove %q, so %q was not kept: %w", oldName, newName, err)
	}
	return nil
}
