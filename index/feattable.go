package index

import "math/bits"

// featTable is a model's feature map (hashed feature -> row) as one flat
// open-addressing table: a prediction looks up every feature of the
// question, about 150, and Go's map was most of the prediction's time.
type featTable struct {
	slots []featSlot
	shift uint // 64 - log2(len(slots))
}

// featSlot is one slot of a featTable: key and row side by side, so that a
// lookup touches one cache line.
type featSlot struct {
	key uint64
	row int32 // -1: empty slot
}

// slot spreads a feature key over the table (Fibonacci hashing: the keys
// are FNV hashes, whose low bits are the weakest).
func slot(k uint64, shift uint) uint64 { return (k * 0x9E3779B97F4A7C15) >> shift }

func newFeatTable(feat map[uint64]int32) *featTable {
	size := 16
	for size < 2*len(feat) {
		size *= 2
	}
	t := &featTable{slots: make([]featSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for i := range t.slots {
		t.slots[i].row = -1
	}
	mask := uint64(size - 1)
	for k, r := range feat {
		i := slot(k, t.shift)
		for t.slots[i].row >= 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = featSlot{k, r}
	}
	return t
}

// row returns the feature's row, or -1 when the model does not have it.
func (t *featTable) row(k uint64) int32 {
	mask := uint64(len(t.slots) - 1)
	for i := slot(k, t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.row < 0 || s.key == k {
			return s.row
		}
	}
}

// keySet is a reusable set of feature keys: reset empties it without
// clearing its memory (each slot is stamped with the round that filled it).
type keySet struct {
	keys  []uint64
	round []uint32
	cur   uint32
	shift uint
}

// reset empties the set for up to n keys.
func (s *keySet) reset(n int) {
	size := 64
	for size < 2*n {
		size *= 2
	}
	if len(s.keys) < size {
		s.keys, s.round, s.cur = make([]uint64, size), make([]uint32, size), 0
		s.shift = uint(64 - bits.TrailingZeros(uint(size)))
	}
	s.cur++
	if s.cur == 0 { // the stamps wrapped around: clear them once
		clear(s.round)
		s.cur = 1
	}
}

// add adds k and reports whether it was new.
func (s *keySet) add(k uint64) bool {
	mask := uint64(len(s.keys) - 1)
	for i := slot(k, s.shift); ; i = (i + 1) & mask {
		if s.round[i] != s.cur {
			s.round[i], s.keys[i] = s.cur, k
			return true
		}
		if s.keys[i] == k {
			return false
		}
	}
}
