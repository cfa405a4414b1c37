package count

// SchulzeResult is the count of a ranked ballot by the Schulze method.
type SchulzeResult struct {
	Ballots int `json:"ballots"` // every ballot, including blank ones
	// Pairwise[i][j] is d[i,j]: the ballots that rank option i above option j.
	Pairwise [][]int `json:"pairwise"`
	// Strongest[i][j] is p[i,j]: the strength of the strongest path from i
	// to j, 0 when there is none.
	Strongest [][]int `json:"strongest"`
	// Order is Schulze's ranking, best first: i comes before j whenever
	// p[i,j] > p[j,i]; options the ranking leaves equal are ordered by the Lot.
	Order []int `json:"order"`
	// Winners are Schulze's potential winners (p[w,j] >= p[j,w] for every j),
	// as they appear in Order; there is usually one, and Winner is the first.
	Winners []int `json:"winners"`
	Winner  int   `json:"winner"` // Order[0]
	// Condorcet is true when Winner beats every other option head to head
	// (d[w,j] > d[j,w] for every j); Schulze always elects such an option.
	Condorcet bool `json:"condorcet"`
}

// Schulze counts ranked ballots over n options by the Schulze method, as
// defined in M. Schulze, "A new monotonic, clone-independent, reversal
// symmetric, and Condorcet-consistent single-winner election method",
// Social Choice and Welfare 36 (2011), with winning votes as the strength of
// a link:
//
//  1. d[i,j] counts the ballots ranking i above j; an option a ballot ranks
//     is above every option it leaves out, and options left out are equal.
//  2. A link i→j exists when d[i,j] > d[j,i], with strength d[i,j]. The
//     strength of a path is that of its weakest link; p[i,j] is the strength
//     of the strongest path from i to j (Floyd–Warshall, widest-path form).
//  3. i is ranked above j when p[i,j] > p[j,i]. This relation is transitive
//     (Schulze 2011, section 4.1), so the options can be listed best first;
//     options it does not separate are listed in Lot order.
func Schulze(n int, ballots []Ranking, lot Lot) (SchulzeResult, error) {
	pos, err := lot.positions(n)
	if err != nil {
		return SchulzeResult{}, err
	}
	groups, _, err := groupRankings(ballots, n)
	if err != nil {
		return SchulzeResult{}, err
	}

	// Pairwise counts on a flat matrix, once per distinct ranking.
	d := make([]int, n*n)
	ranked := make([]bool, n)
	for _, g := range groups {
		for i := range ranked {
			ranked[i] = false
		}
		for _, o := range g.prefs {
			ranked[o] = true
		}
		for a, hi := range g.prefs {
			row := d[hi*n : hi*n+n]
			for _, lo := range g.prefs[a+1:] {
				row[lo] += g.count
			}
			for lo, r := range ranked {
				if !r {
					row[lo] += g.count
				}
			}
		}
	}

	p := make([]int, n*n)
	for i := range n {
		for j := range n {
			if i != j && d[i*n+j] > d[j*n+i] {
				p[i*n+j] = d[i*n+j]
			}
		}
	}
	for k := range n {
		for i := range n {
			if i == k {
				continue
			}
			pik := p[i*n+k]
			if pik == 0 {
				continue
			}
			for j := range n {
				if j == i || j == k {
					continue
				}
				if s := min(pik, p[k*n+j]); s > p[i*n+j] {
					p[i*n+j] = s
				}
			}
		}
	}

	res := SchulzeResult{Ballots: len(ballots), Pairwise: square(d, n), Strongest: square(p, n)}
	beats := func(i, j int) bool { return p[i*n+j] > p[j*n+i] }

	// Schulze's ranking: repeatedly take, among the options left, those no
	// option left beats, and of them the one earliest in the Lot.
	left := make([]bool, n)
	for i := range left {
		left[i] = true
	}
	for range n {
		pick := -1
		for i := range n {
			if !left[i] {
				continue
			}
			unbeaten := true
			for j := range n {
				if left[j] && beats(j, i) {
					unbeaten = false
					break
				}
			}
			if unbeaten && (pick < 0 || pos[i] < pos[pick]) {
				pick = i
			}
		}
		res.Order = append(res.Order, pick)
		left[pick] = false
	}
	for _, i := range res.Order {
		winner := true
		for j := range n {
			if beats(j, i) {
				winner = false
				break
			}
		}
		if winner {
			res.Winners = append(res.Winners, i)
		}
	}
	res.Winner = res.Order[0]
	res.Condorcet = true
	for j := range n {
		if w := res.Winner; j != w && d[w*n+j] <= d[j*n+w] {
			res.Condorcet = false
			break
		}
	}
	return res, nil
}

func square(flat []int, n int) [][]int {
	m := make([][]int, n)
	for i := range m {
		m[i] = flat[i*n : i*n+n : i*n+n]
	}
	return m
}
