// Package check is how the domain packages check what people type: the one
// validator (go-playground/validator) with the checks the domain needs, run
// over an input type's `validate:` tags, and Errors, the message per field
// it answers with. governance and library each name Errors ValidationError.
//
// A validated field names itself by its `form:` tag, the name of the form
// field that carries it ("title", "demand_id"), so a message lands next to
// the field it is about. A field without one goes by its Go name.
//
// The checks this package adds to validator's own, by tag:
//
//	utf8       valid UTF-8
//	nocontrol  no control characters but line feeds and tabs (text)
//	oneline    no line breaks or tabs (with nocontrol: one line of text)
//	nospace    valid UTF-8 without white space or control characters
//	link       an absolute http or https link with a host, no user info,
//	           no spaces or control characters, at most MaxLinkLen characters
//	langtag    a BCP 47 language tag, as Language accepts it
//	doi        a DOI, as DOI accepts it
//	isbnsum    a 10- or 13-digit ISBN with the right check digit
//	zone       an IANA time zone name, such as Europe/London
//	year       a year from MinYear to MaxYear
//	intrange   a whole number in a range: intrange=1 100
//	emailaddr  a bare email address (name@example.org, no display name)
//	maxlines   at most N lines: maxlines=30
//	linemax    every line plain text of at most N characters: linemax=120
//
// Normalising (trimming, case, line ends, splitting lists) is the input
// type's own business and happens before the tags are checked, so the tags
// check what will be stored. So are rules across fields and lookups in the
// database, written after Struct beside the tags: validator's struct-level
// functions are registered on the instance type by type, which would have
// this package import the domain's, or the instance change after it is
// built.
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
