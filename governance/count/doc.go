// Package count holds Plenary's counting methods as pure functions: ballots
// in, result and every round out; no database, no clock, no randomness. The
// close of a ballot, `plenary tally verify` and the tests all call this
// code, so anyone can check a published result against it, or by hand.
//
// Options are numbered 0..n-1 (the caller maps them to demands, resources or
// candidates). A ranked ballot is a Ranking: options most preferred first,
// possibly only some of them; an option left out is below every listed one.
// The same rank twice is refused (RankingFromRanks, ValidRanking). The order
// in which ballots are given never changes a result.
//
// # Ties and the lot
//
// Where the rules say "by lot", the count uses a Lot instead: an order of
// all the options drawn from a seed, normally the hash of the ballot box
// (LotFromSeed: sort the options by SHA-256 of the seed followed by the
// option number as two bytes). Among tied options, the one earlier in the
// Lot is treated as ahead. The draw is fixed once the box is closed, and
// anyone can redraw it.
//
// # Approval (Approval)
//
// Each ballot gives one vote to every option it ticks, up to the proposal's
// limit if it has one. Options are listed by votes, most first; equal totals
// in Lot order, and marked Tied.
//
// # Schulze (Schulze)
//
//  1. Write the table d: d[X,Y] is the number of ballots ranking X above Y.
//  2. For each pair, the one with more votes beats the other, with
//     strength d of its own side (winning votes); equal pairs: no one beats.
//  3. A path X→…→Y through beats is as strong as its weakest beat; p[X,Y]
//     is the strongest path from X to Y (0 if none).
//  4. X ranks above Y when p[X,Y] > p[Y,X]. List the options that nothing
//     left ranks above, take the first in the Lot, and repeat.
//
// An option that beats every other in step 2 (a Condorcet winner) always
// comes first.
//
// # Instant-runoff, one winner (IRV)
//
// Put each ballot on the pile of its first choice still in the count. If a
// pile holds more than half of the ballots on piles, that option wins. If
// not, the smallest pile's option is out and its ballots go to their next
// choice still in; a ballot with none left is exhausted and set aside. A tie
// for smallest: the option that was smaller at the latest earlier round
// where they differed goes out; if they never differed, the one latest in
// the Lot.
//
// # Single transferable vote, N seats (STV)
//
// Scottish STV: the counting rules of the Scottish Local Government
// Elections Order 2007 (SSI 2007/42, schedule 1, rules 45–52), followed to
// the letter, with the Lot for "by lot". Votes are counted to five decimal
// places, anything further cut off, never rounded up.
//
//  1. Papers ranking nothing are not valid. Put each valid paper on its first
//     choice's pile at a value of 1.
//  2. Quota = valid papers ÷ (seats + 1), decimals dropped, + 1.
//  3. At the end of every stage, an option whose votes reach the quota is
//     elected.
//  4. While seats remain and an elected option has more than the quota,
//     transfer the largest such surplus (one a stage). Every paper on that
//     option's pile moves to its next choice still continuing (not elected,
//     not excluded), worth surplus × the paper's value ÷ the option's
//     votes, cut to five decimals; a paper with no such choice is set aside
//     as non-transferable. The option keeps exactly the quota. Equal
//     surpluses: the option with more votes at the latest earlier stage
//     where they differed goes first, else the earlier in the Lot.
//  5. When no surplus is left, exclude the option with fewest votes: each
//     of its papers moves on at the value it has. A tie for fewest: the one
//     with fewer votes at the latest earlier stage where they differed,
//     else the later in the Lot.
//  6. Once the options still continuing are no more than the seats left,
//     they are all elected and the count stops.
//
// Each stage lists every option's votes, the transfers, the value set aside
// and the value lost to cutting decimals; these always add up to the number
// of valid papers.
package count
