package server

import (
	"encoding/json"
	"fmt"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// sessionCodec serialises session values as JSON instead of securecookie's
// default gob, which builds a new gob encoder and decoder, type
// descriptions and all, for every cookie: a fifth of a vote's server time
// under load. Plenary's cookies hold only the values below, so the codec
// knows each key's type.
type sessionCodec struct{}

// flashesKey is where gorilla/sessions keeps flash messages.
const flashesKey = "_flash"

func (sessionCodec) Serialize(src any) ([]byte, error) {
	m, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("server: session values are %T, not a map", src)
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("server: session key %v is not a string", k)
		}
		out[key] = v
	}
	return json.Marshal(out)
}

func (sessionCodec) Deserialize(src []byte, dst any) error {
	p, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("server: cannot decode a session into %T", dst)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(src, &raw); err != nil {
		return err
	}
	m := make(map[any]any, len(raw))
	for k, r := range raw {
		var err error
		switch k {
		case keyMember, keyVersion:
			var n int64
			err = json.Unmarshal(r, &n)
			m[k] = n
		case flashesKey:
			var fs []string
			err = json.Unmarshal(r, &fs)
			flashes := make([]any, len(fs))
			for i, f := range fs {
				flashes[i] = f
			}
			m[k] = flashes
		default:
			var s string
			err = json.Unmarshal(r, &s)
			m[k] = s
		}
		if err != nil {
			return fmt.Errorf("server: session value %s: %w", k, err)
		}
	}
	*p = m
	return nil
}

// useSessionCodec switches every codec of the store to sessionCodec.
func useSessionCodec(store *sessions.CookieStore) {
	for _, c := range store.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(sessionCodec{})
		}
	}
}
