package governance

// The counting rules, tested inside the package because the digests are
// unexported: anyone may recompute them from the published roll and box,
// so they must not depend on the order rows come back in.

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name                         string
		yes, no, abstain, roll, quor int
		threshold                    string
		want                         string
		quorumMet                    bool
	}{
		// Ties.
		{"a majority tie is defeated", 3, 3, 0, 10, 25, ThresholdMajority, OutcomeDefeated, true},
		{"a two-thirds vote with only abstentions is defeated", 0, 0, 4, 10, 25, ThresholdTwoThirds, OutcomeDefeated, true},
		{"a majority vote with only abstentions is defeated", 0, 0, 4, 10, 25, ThresholdMajority, OutcomeDefeated, true},
		{"one more yes than no carries a majority", 4, 3, 0, 10, 25, ThresholdMajority, OutcomeCarried, true},

		// Two-thirds exactly.
		{"exactly two-thirds carries (6 yes, 3 no)", 6, 3, 0, 20, 25, ThresholdTwoThirds, OutcomeCarried, true},
		{"just under two-thirds is defeated (5 yes, 3 no)", 5, 3, 0, 20, 25, ThresholdTwoThirds, OutcomeDefeated, true},
		{"two-thirds ignores abstentions", 2, 1, 9, 20, 25, ThresholdTwoThirds, OutcomeCarried, true},
		{"a majority ignores abstentions", 2, 1, 9, 20, 25, ThresholdMajority, OutcomeCarried, true},

		// Nobody voted.
		{"no ballots at all are inquorate", 0, 0, 0, 10, 25, ThresholdMajority, OutcomeInquorate, false},
		{"no ballots are inquorate even with a quorum of 0", 0, 0, 0, 10, 0, ThresholdMajority, OutcomeInquorate, false},
		{"one ballot meets a quorum of 0", 0, 1, 0, 10, 0, ThresholdMajority, OutcomeDefeated, true},

		// Everyone abstains.
		{"a full turnout of abstentions is quorate but defeated", 0, 0, 10, 10, 100, ThresholdMajority, OutcomeDefeated, true},

		// The quorum's edge: 25 % of 20 is 5 ballots.
		{"a quorum exactly met (5 of 20 at 25 %) counts", 5, 0, 0, 20, 25, ThresholdMajority, OutcomeCarried, true},
		{"a quorum just missed (4 of 20 at 25 %) is inquorate", 4, 0, 0, 20, 25, ThresholdMajority, OutcomeInquorate, false},
		{"abstentions count toward the quorum", 1, 0, 4, 20, 25, ThresholdMajority, OutcomeCarried, true},
		{"abstentions alone can make the quorum and not the decision", 1, 1, 3, 20, 25, ThresholdMajority, OutcomeDefeated, true},
		{"no votes count toward the quorum", 0, 5, 0, 20, 25, ThresholdTwoThirds, OutcomeDefeated, true},
		{"an inquorate ballot is inquorate however it split", 3, 0, 0, 20, 25, ThresholdMajority, OutcomeInquorate, false},

		// One-member roll.
		{"a one-member roll: one yes carries", 1, 0, 0, 1, 25, ThresholdMajority, OutcomeCarried, true},
		{"a one-member roll: one yes carries two-thirds", 1, 0, 0, 1, 25, ThresholdTwoThirds, OutcomeCarried, true},
		{"a one-member roll: one abstention is defeated", 0, 0, 1, 1, 25, ThresholdTwoThirds, OutcomeDefeated, true},
		{"a one-member roll: nobody voting is inquorate", 0, 0, 0, 1, 25, ThresholdMajority, OutcomeInquorate, false},

		// A quorum of 100 %.
		{"a 100 % quorum needs the whole roll", 5, 0, 0, 5, 100, ThresholdMajority, OutcomeCarried, true},
		{"a 100 % quorum missed by one is inquorate", 4, 0, 0, 5, 100, ThresholdMajority, OutcomeInquorate, false},

		// Rounding up: 25 % of 7 is 1.75, so 2 ballots are needed.
		{"roll 7 at 25 %: 1 ballot is inquorate", 1, 0, 0, 7, 25, ThresholdMajority, OutcomeInquorate, false},
		{"roll 7 at 25 %: 2 ballots meet it", 2, 0, 0, 7, 25, ThresholdMajority, OutcomeCarried, true},
		{"roll 3 at 10 %: 1 ballot meets it (0.3 rounds up to 1)", 1, 0, 0, 3, 10, ThresholdMajority, OutcomeCarried, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.yes, tt.no, tt.abstain, tt.roll, tt.quor, tt.threshold)
			if got.Outcome != tt.want || got.QuorumMet != tt.quorumMet {
				t.Errorf("Decide(%d yes, %d no, %d abstain, roll %d, quorum %d%%, %s) = %s (quorum met %t), want %s (quorum met %t)",
					tt.yes, tt.no, tt.abstain, tt.roll, tt.quor, tt.threshold, got.Outcome, got.QuorumMet, tt.want, tt.quorumMet)
			}
			// The tally keeps what it was given.
			if got.Yes != tt.yes || got.No != tt.no || got.Abstain != tt.abstain || got.RollSize != tt.roll ||
				got.QuorumPct != tt.quor || got.Threshold != tt.threshold {
				t.Errorf("tally = %+v does not hold its inputs", got)
			}
			// Quorum and QuorumVotes agree: the quorum is met exactly when
			// the turnout reaches QuorumVotes.
			if met := got.Turnout() >= got.QuorumVotes(); met != got.QuorumMet {
				t.Errorf("turnout %d, QuorumVotes %d, but QuorumMet = %t", got.Turnout(), got.QuorumVotes(), got.QuorumMet)
			}
		})
	}
}

func TestTallyQuorumVotesAndTurnout(t *testing.T) {
	tests := []struct {
		roll, quorum, want int
	}{
		{20, 25, 5},
		{7, 25, 2}, // 1.75 rounds up
		{3, 10, 1}, // 0.3 rounds up
		{100, 10, 10},
		{101, 10, 11},
		{5, 100, 5},
		{1, 25, 1},
		{1, 100, 1},
		// A quorum of 0 still needs one ballot: Decide never finds a
		// ballot with no votes quorate.
		{10, 0, 1},
	}
	for _, tt := range tests {
		got := Tally{RollSize: tt.roll, QuorumPct: tt.quorum}.QuorumVotes()
		if got != tt.want {
			t.Errorf("QuorumVotes(roll %d, quorum %d%%) = %d, want %d", tt.roll, tt.quorum, got, tt.want)
		}
		// It is the smallest turnout Decide accepts.
		if tt.want > 0 && Decide(0, 0, tt.want-1, tt.roll, tt.quorum, ThresholdMajority).QuorumMet {
			t.Errorf("roll %d, quorum %d%%: %d ballots already meet the quorum, so QuorumVotes %d is not the smallest", tt.roll, tt.quorum, tt.want-1, tt.want)
		}
		if !Decide(0, 0, tt.want, tt.roll, tt.quorum, ThresholdMajority).QuorumMet {
			t.Errorf("roll %d, quorum %d%%: QuorumVotes %d ballots do not meet the quorum", tt.roll, tt.quorum, tt.want)
		}
	}

	if got := (Tally{Yes: 4, No: 3, Abstain: 2}).Turnout(); got != 9 {
		t.Errorf("Turnout of 4 yes, 3 no, 2 abstain = %d, want 9 (abstentions are ballots cast)", got)
	}
	if got := (Tally{}).Turnout(); got != 0 {
		t.Errorf("Turnout of nothing = %d, want 0", got)
	}
}

func TestTallyJSON(t *testing.T) {
	got := Decide(6, 3, 1, 20, 25, ThresholdTwoThirds).JSON()
	want := `{"yes":6,"no":3,"abstain":1,"turnout":10,"roll_size":20,"quorum_pct":25,"threshold":"two_thirds","quorum_met":true,"outcome":"carried"}`
	if got != want {
		t.Errorf("JSON = %s\nwant   %s", got, want)
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestRollDigest(t *testing.T) {
	t.Run("it is the SHA-256 of the sorted member numbers, one per line", func(t *testing.T) {
		if got, want := rollDigest([]int64{12, 3, 7}), sha("3\n7\n12\n"); got != want {
			t.Errorf("rollDigest = %s, want %s", got, want)
		}
		// Sorted as numbers, not as text: 12 after 7.
		if rollDigest([]int64{12, 3, 7}) == sha("12\n3\n7\n") {
			t.Error("the digest sorts member numbers as text")
		}
	})

	t.Run("the order the roll is read in does not matter", func(t *testing.T) {
		members := make([]int64, 200)
		for i := range members {
			members[i] = int64(i*7 + 1)
		}
		want := rollDigest(members)
		r := rand.New(rand.NewPCG(1, 2))
		for range 20 {
			shuffled := append([]int64(nil), members...)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if got := rollDigest(shuffled); got != want {
				t.Fatalf("shuffled roll digest %s, want %s", got, want)
			}
		}
	})

	t.Run("it does not reorder the caller's slice", func(t *testing.T) {
		members := []int64{9, 1, 5}
		rollDigest(members)
		if members[0] != 9 || members[1] != 1 || members[2] != 5 {
			t.Errorf("rollDigest changed its argument to %v", members)
		}
	})

	t.Run("a different roll gives a different digest", func(t *testing.T) {
		if rollDigest([]int64{1, 2, 3}) == rollDigest([]int64{1, 2, 4}) {
			t.Error("two different rolls have the same digest")
		}
		if rollDigest([]int64{1, 2, 3}) == rollDigest([]int64{1, 2}) {
			t.Error("dropping a member does not change the digest")
		}
		if rollDigest(nil) != sha("") {
			t.Error("an empty roll's digest is not the SHA-256 of nothing")
		}
	})
}

func TestBoxDigest(t *testing.T) {
	entries := []BoxEntry{
		{Key: "c3", Choice: ChoiceYes},
		{Key: "a1", Choice: ChoiceNo},
		{Key: "b2", Choice: ChoiceAbstain},
	}

	t.Run("it is the SHA-256 of the lines key and choice, sorted", func(t *testing.T) {
		if got, want := boxDigest(entries), sha("a1 no\nb2 abstain\nc3 yes\n"); got != want {
			t.Errorf("boxDigest = %s, want %s", got, want)
		}
	})

	t.Run("the order the box is read in does not matter", func(t *testing.T) {
		var big []BoxEntry
		for i := range 100 {
			big = append(big, BoxEntry{Key: sha(string(rune('a'+i%26)) + string(rune(i))), Choice: Choices[i%3]})
		}
		want := boxDigest(big)
		r := rand.New(rand.NewPCG(3, 4))
		for range 20 {
			shuffled := append([]BoxEntry(nil), big...)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if got := boxDigest(shuffled); got != want {
				t.Fatalf("shuffled box digest %s, want %s", got, want)
			}
		}
	})

	t.Run("a changed choice changes the digest", func(t *testing.T) {
		changed := append([]BoxEntry(nil), entries...)
		changed[0].Choice = ChoiceNo
		if boxDigest(changed) == boxDigest(entries) {
			t.Error("changing a choice kept the digest")
		}
		if boxDigest(entries[:2]) == boxDigest(entries) {
			t.Error("removing a ballot kept the digest")
		}
	})

	t.Run("countYesNo adds up each choice", func(t *testing.T) {
		yes, no, abstain := countYesNo(append(entries, BoxEntry{Key: "d4", Choice: ChoiceYes}))
		if yes != 2 || no != 1 || abstain != 1 {
			t.Errorf("countYesNo = %d yes, %d no, %d abstain; want 2, 1, 1", yes, no, abstain)
		}
	})
}

func TestReceipt(t *testing.T) {
	r := newReceipt()
	if len(r) != 39 { // 32 base32 characters in 8 groups of 4, 7 dashes
		t.Errorf("receipt %q is %d characters, want 39", r, len(r))
	}
	if r == newReceipt() {
		t.Error("two receipts are the same")
	}
	for _, form := range []string{r, " " + r + "\n", lowerNoDashes(r), "  " + lowerNoDashes(r)[:10] + " " + lowerNoDashes(r)[10:]} {
		if ReceiptHash(form) != ReceiptHash(r) {
			t.Errorf("receipt typed as %q hashes differently from %q", form, r)
		}
	}
	if ReceiptHash(r) == ReceiptHash(newReceipt()) {
		t.Error("two receipts hash alike")
	}
}

func lowerNoDashes(s string) string {
	var out []rune
	for _, c := range s {
		if c == '-' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}
