package library

import "testing"

func TestLanguageName(t *testing.T) {
	for tag, want := range map[string]string{"en": "English", "EN": "English", "pt-BR": "Portuguese (BR)", "fr": "French", "tlh": "tlh", "": ""} {
		if got := LanguageName(tag); got != want {
			t.Errorf("LanguageName(%q) = %q, want %q", tag, got, want)
		}
	}
}
