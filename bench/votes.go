package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

var choices = []string{"yes", "no", "abstain"}

// loginProblem names why a login failed, briefly enough to count by.
func loginProblem(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, io.EOF):
		return "connection closed (EOF)"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	var status *statusError
	if errors.As(err, &status) {
		return "status " + strconv.Itoa(status.got)
	}
	return "transport error"
}

var turnoutLine = regexp.MustCompile(`(\d+) of (\d+) on the roll have voted`)

// verifyTurnout checks, as a member sees it, that every vote acknowledged
// with a 303 is counted on the ballot's page.
func verifyTurnout(ctx context.Context, viewer *browser, ballot int64, want int) (string, error) {
	a, err := viewer.get(ctx, fmt.Sprintf("/proposals/%d", ballot))
	if err != nil {
		return "", fmt.Errorf("verify ballot %d: %w", ballot, err)
	}
	m := turnoutLine.FindStringSubmatch(a.body)
	if m == nil {
		return "", fmt.Errorf("verify ballot %d: status %d, no turnout line on its page", ballot, a.status)
	}
	line := fmt.Sprintf("proposal %d: %s", ballot, m[0])
	if got, _ := strconv.Atoi(m[1]); got != want {
		return line, fmt.Errorf("verify ballot %d: the page says %q, but %d votes were acknowledged", ballot, m[0], want)
	}
	return line, nil
}
