package declare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

// Export returns the file that describes the credentials in st (of issuer only, when it is
// not ""), so that applying it changes nothing: per credential the metadata of the last
// request the registrar recorded, else the stored registration (without the members the
// server issues). It reads the store's index only: no secret, no server call. The file has
// no token sources: the clients exist already.
func Export(ctx context.Context, st keystore.Store, issuer string) (*File, error) {
	list, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	f := &File{}
	for _, c := range list {
		if issuer != "" && issuerKey(c.Issuer) != issuerKey(issuer) {
			continue
		}
		e, err := exportEntry(c)
		if err != nil {
			return nil, err
		}
		f.Entries = append(f.Entries, e)
	}
	return f, nil
}

func exportEntry(c keystore.Credential) (Entry, error) {
	e := Entry{Name: c.Name, Issuer: c.Issuer, Metadata: map[string]json.RawMessage{}}
	var members map[string]json.RawMessage
	if lr, ok := registrar.LastRequestOf(c); ok {
		if err := json.Unmarshal(lr.Metadata, &members); err != nil {
			return e, fmt.Errorf("declare: export %s: the stored last request is not a JSON object", c.Name)
		}
	} else {
		reg, err := registrar.RegistrationFrom(c)
		if err != nil {
			return e, err
		}
		members = membersOf(reg.Metadata)
		if c.Template != "" {
			members = map[string]json.RawMessage{} // an instance's metadata is the template's
		}
	}
	tmpl := c.Template
	if sid, ok := members["software_id"]; ok && tmpl == "" {
		_ = json.Unmarshal(sid, &tmpl)
	}
	if tmpl != "" {
		e.Template = tmpl
		delete(members, "software_id")
	}
	for k, v := range members {
		// A secret member (software_statement) cannot stand in the file: it is left out.
		if !issuedMembers[k] && !isNull(v) && !client.IsSecretMember(k) {
			e.Metadata[k] = v
		}
	}
	return e, nil
}

// Encode writes f as YAML ("yaml") or JSON ("json"), in a form Parse reads back.
func (f *File) Encode(w io.Writer, format string) error {
	doc := map[string]any{}
	regs := map[string]any{}
	for _, e := range f.Entries {
		regs[e.Name] = e.document()
	}
	doc["registrations"] = regs
	if format == "json" {
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("# Declarative registrations (dcrctl apply -f FILE; dcrctl apply --explain shows the format).\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// document is the entry as the file writes it.
func (e Entry) document() map[string]any {
	d := map[string]any{}
	if e.Issuer != "" {
		d["issuer"] = e.Issuer
	}
	if e.Profile != "" {
		d["profile"] = e.Profile
	}
	if e.Token != (TokenSource{}) {
		d["token"] = e.Token
	}
	if e.Template != "" {
		d["template"] = e.Template
	}
	if len(e.Metadata) > 0 {
		md := map[string]any{}
		for k, v := range e.Metadata {
			var x any
			_ = json.Unmarshal(v, &x)
			md[k] = x
		}
		d["metadata"] = md
	}
	return d
}
