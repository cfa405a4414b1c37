package count

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestValidRanking(t *testing.T) {
	tests := []struct {
		name string
		r    Ranking
		n    int
		want error
	}{
		{"a full ranking is valid", Ranking{2, 0, 1}, 3, nil},
		{"a partial ranking is valid", Ranking{1}, 3, nil},
		{"an empty ranking is valid", Ranking{}, 3, nil},
		{"an option beyond the last is out of range", Ranking{0, 3}, 3, ErrOutOfRange},
		{"a negative option is out of range", Ranking{-1}, 3, ErrOutOfRange},
		{"an option ranked twice is refused", Ranking{1, 0, 1}, 3, ErrTwice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidRanking(tt.r, tt.n)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("ValidRanking(%v, %d) = %v, want %v", tt.r, tt.n, err, tt.want)
			}
		})
	}
}

func TestValidApproval(t *testing.T) {
	tests := []struct {
		name   string
		b      ApprovalBallot
		n, max int
		want   error
		option int
	}{
		{"approving some options is valid", ApprovalBallot{0, 2}, 3, 0, nil, 0},
		{"approving nothing is valid", ApprovalBallot{}, 3, 2, nil, 0},
		{"approving up to the limit is valid", ApprovalBallot{0, 2}, 3, 2, nil, 0},
		{"more approvals than allowed are refused", ApprovalBallot{0, 1, 2}, 3, 2, ErrTooMany, -1},
		{"an option from elsewhere is out of range", ApprovalBallot{7}, 3, 0, ErrOutOfRange, 7},
		{"an option approved twice is refused", ApprovalBallot{1, 1}, 3, 0, ErrTwice, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidApproval(tt.b, tt.n, tt.max)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("ValidApproval(%v) = %v, want %v", tt.b, err, tt.want)
			}
			var be *BallotError
			if tt.want != nil && (!errors.As(err, &be) || be.Option != tt.option) {
				t.Fatalf("error %v does not name option %d", err, tt.option)
			}
		})
	}
}

func TestRankingFromRanks(t *testing.T) {
	tests := []struct {
		name   string
		ranks  []int
		want   Ranking
		err    error
		option int
	}{
		{"numbers give the order", []int{2, 3, 1}, Ranking{2, 0, 1}, nil, 0},
		{"unranked options are left out", []int{0, 1, 0, 2}, Ranking{1, 3}, nil, 0},
		{"gaps keep only the order", []int{3, 0, 1}, Ranking{2, 0}, nil, 0},
		{"nothing ranked is an empty ranking", []int{0, 0}, Ranking{}, nil, 0},
		{"the same rank twice is refused at the second option", []int{1, 2, 1}, nil, ErrSameRank, 2},
		{"a rank above the number of options is refused", []int{1, 4, 2}, nil, ErrOutOfRange, 1},
		{"a negative rank is refused", []int{-1, 1}, nil, ErrOutOfRange, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RankingFromRanks(tt.ranks)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("RankingFromRanks(%v) error %v, want %v", tt.ranks, err, tt.err)
			}
			var be *BallotError
			if tt.err != nil && (!errors.As(err, &be) || be.Option != tt.option) {
				t.Fatalf("error %v does not name option %d", err, tt.option)
			}
			if tt.err == nil && !slices.Equal(got, tt.want) {
				t.Fatalf("RankingFromRanks(%v) = %v, want %v", tt.ranks, got, tt.want)
			}
		})
	}
}

func TestCountsRefuseBadBallots(t *testing.T) {
	bad := []Ranking{{0, 1}, {1, 1}}
	if _, err := Schulze(3, bad, nil); !errors.Is(err, ErrTwice) {
		t.Errorf("Schulze: %v, want ErrTwice", err)
	}
	if _, err := IRV(3, bad, nil); !errors.Is(err, ErrTwice) {
		t.Errorf("IRV: %v, want ErrTwice", err)
	}
	if _, err := STV(3, 1, bad, nil); !errors.Is(err, ErrTwice) {
		t.Errorf("STV: %v, want ErrTwice", err)
	}
	if _, err := Approval(3, 1, []ApprovalBallot{{0, 1}}, nil); !errors.Is(err, ErrTooMany) {
		t.Errorf("Approval: %v, want ErrTooMany", err)
	}
	if _, err := STV(3, 4, nil, nil); err == nil {
		t.Error("STV with more seats than options: no error")
	}
	if _, err := Schulze(3, nil, Lot{0, 1, 1}); err == nil {
		t.Error("a lot that is not an order of the options: no error")
	}
	if _, err := Schulze(0, nil, nil); err == nil {
		t.Error("no options: no error")
	}
}

func TestLotFromSeed(t *testing.T) {
	a := LotFromSeed([]byte("box hash"), 20)
	b := LotFromSeed([]byte("box hash"), 20)
	c := LotFromSeed([]byte("another box"), 20)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed drew two different lots")
	}
	if slices.Equal(a, c) {
		t.Fatal("two seeds drew the same lot of 20 options")
	}
	if _, err := a.positions(20); err != nil {
		t.Fatalf("the lot is not an order of the options: %v", err)
	}
}

func TestValueJSON(t *testing.T) {
	for _, s := range []string{"0.00000", "5.07683", "-6.00000", "24.00000", "0.00001"} {
		x := v(s)
		b, err := json.Marshal(x)
		if err != nil || string(b) != s {
			t.Fatalf("Marshal(%s) = %s, %v", s, b, err)
		}
	}
	if v("1.5") != 150000 || v("-0.5") != -50000 {
		t.Fatal("short decimals are not read as hundred-thousandths")
	}
	var x Value
	if err := x.UnmarshalJSON([]byte("1.000001")); err == nil {
		t.Fatal("six decimals accepted")
	}
}
