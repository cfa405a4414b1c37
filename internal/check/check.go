// Package check holds the one error type both domain packages use for
// input that breaks a rule: a message per field, safe to show to the person
// who typed it. governance and library each name it ValidationError.
package check

import (
	"sort"
	"strings"
)

// Errors says, field by field, what is wrong with some input. The field ""
// holds a message about the input as a whole.
type Errors map[string]string

func (e Errors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Err returns e as an error, or nil if it holds no message.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}
