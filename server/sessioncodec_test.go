package server

import (
	"testing"

	"github.com/gorilla/securecookie"
)

func TestSessionCodecRoundTrip(t *testing.T) {
	sc := securecookie.New([]byte("0123456789abcdef0123456789abcdef"), []byte("0123456789abcdef0123456789abcdef"))
	sc.SetSerializer(sessionCodec{})
	in := map[any]any{keyMember: int64(42), keyVersion: int64(7), keySID: "abc", flashesKey: []any{"ok:Saved.", "link:https://x/invite/t"}}
	enc, err := sc.Encode("s", in)
	if err != nil {
		t.Fatal(err)
	}
	out := map[any]any{}
	if err := sc.Decode("s", enc, &out); err != nil {
		t.Fatal(err)
	}
	if out[keyMember] != int64(42) || out[keyVersion] != int64(7) || out[keySID] != "abc" {
		t.Errorf("decoded %v", out)
	}
	if f, ok := out[flashesKey].([]any); !ok || len(f) != 2 || f[1] != "link:https://x/invite/t" {
		t.Errorf("flashes decoded as %#v", out[flashesKey])
	}
	if _, err := sc.Encode("s", map[any]any{1: "not a string key"}); err == nil {
		t.Error("a non-string key was encoded")
	}
}

// BenchmarkSessionCookie compares decoding and re-encoding a session cookie
// with gob (securecookie's default) and with sessionCodec.
func BenchmarkSessionCookie(b *testing.B) {
	values := map[any]any{keyMember: int64(42), keyVersion: int64(7), keySID: "0123456789abcdefghijklmn"}
	for _, c := range []struct {
		name  string
		codec securecookie.Serializer
	}{{"gob", securecookie.GobEncoder{}}, {"json", sessionCodec{}}} {
		b.Run(c.name, func(b *testing.B) {
			sc := securecookie.New([]byte("0123456789abcdef0123456789abcdef"), []byte("0123456789abcdef0123456789abcdef"))
			sc.SetSerializer(c.codec)
			enc, _ := sc.Encode("s", values)
			b.ReportAllocs()
			for b.Loop() {
				out := map[any]any{}
				if err := sc.Decode("s", enc, &out); err != nil {
					b.Fatal(err)
				}
				if _, err := sc.Encode("s", out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
