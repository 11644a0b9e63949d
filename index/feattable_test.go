package index

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFeatTableIsTheMap checks the flat feature table against the map it
// is made from, for keys it has and keys it has not, including keys that
// land on the same slot.
func TestFeatTableIsTheMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 1000, 30000} {
		feat := make(map[uint64]int32, n)
		for len(feat) < n {
			feat[rng.Uint64()] = int32(len(feat))
		}
		tab := newFeatTable(feat)
		for k, r := range feat {
			if got := tab.row(k); got != r {
				t.Fatalf("n=%d: row(%x) = %d, want %d", n, k, got, r)
			}
		}
		for range 1000 {
			k := rng.Uint64()
			want, ok := feat[k]
			if !ok {
				want = -1
			}
			if got := tab.row(k); got != want {
				t.Fatalf("n=%d: row(%x) = %d, want %d", n, k, got, want)
			}
		}
	}
	// A table whose keys all start probing from the same slot (8 keys: a
	// table of 16 slots, shift 60).
	crowd := map[uint64]int32{}
	for len(crowd) < 8 {
		if k := rng.Uint64(); slot(k, 60) == 5 {
			crowd[k] = int32(len(crowd))
		}
	}
	tab := newFeatTable(crowd)
	if tab.shift != 60 {
		t.Fatalf("shift %d for 8 keys", tab.shift)
	}
	for k, r := range crowd {
		if got := tab.row(k); got != r {
			t.Fatalf("crowded: row(%d) = %d, want %d", k, got, r)
		}
	}
	if got := tab.row(99); got != -1 {
		t.Fatalf("crowded: row(99) = %d", got)
	}
}

// TestKeySetForgetsOnReset checks the reusable key set: add reports new
// keys once per round, whatever the earlier rounds held, also when the
// round stamps wrap around and when it grows.
func TestKeySetForgetsOnReset(t *testing.T) {
	var s keySet
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 300 {
		n := 1 + rng.IntN(40)
		if round == 200 {
			n = 5000 // grows
		}
		if round == 100 {
			s.cur = ^uint32(0) // the next reset wraps the stamps
		}
		s.reset(n)
		want := map[uint64]bool{}
		for range n {
			k := uint64(rng.IntN(60)) // repeats within and across rounds
			if round == 200 {
				k = rng.Uint64N(10000)
			}
			if got := s.add(k); got != !want[k] {
				t.Fatalf("round %d: add(%d) = %v, seen before: %v", round, k, got, want[k])
			}
			want[k] = true
		}
	}
}

// TestAddRowIsTheSimpleLoop checks the unrolled row addition against one
// element at a time, bit for bit, for every length around the unrolling.
func TestAddRowIsTheSimpleLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := range 14 {
		out, want, row := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			out[i] = rng.Float32()*2 - 1
			want[i] = out[i]
			row[i] = rng.Float32()*2 - 1
		}
		v := rng.Float32()
		addRow(out, row, v)
		for c := range row {
			want[c] += v * row[c]
		}
		for i := range n {
			if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, out[i], want[i])
			}
		}
	}
}
