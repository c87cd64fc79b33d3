package iblt

import (
	"fmt"
	"math"
	"strconv"
)

// Limits on [Params].
const (
	MaxHashes = 8       // largest k
	MaxKeyLen = 256     // largest key length in bytes
	MaxCells  = 1 << 28 // largest number of cells in one table (fewer on a 32-bit platform, see Params.Cells)
	minCells  = 1       // per sub-table
)

// Params describes a [Table].
type Params struct {
	// Cells is m, the total number of cells: a positive multiple of
	// Hashes, at most MaxCells. Each of the Hashes sub-tables holds
	// Cells/Hashes cells. On a 32-bit platform the table's encoding
	// (24 + 8*Cells*(3+ceil(KeyLen/8)) bytes, the cells' memory plus a
	// header) must also fit in an int, which caps Cells below MaxCells:
	// at 67,108,863 for keys of up to 8 bytes, 53,687,090 for 13-byte
	// keys, 33,554,431 for 37-byte keys and 7,669,584 for 256-byte keys
	// (rounded down to a multiple of Hashes). [Params.Validate] reports it.
	Cells int
	// Hashes is k, the number of hash functions and of sub-tables, in
	// [1, MaxHashes]. Use 3 or 4 (see [ParamsFor]).
	Hashes int
	// KeyLen is the length in bytes of every key, in [1, MaxKeyLen].
	KeyLen int
	// Seed seeds the index hash. The checksum hash uses
	// [ChecksumSeed](Seed), which always differs from Seed.
	Seed uint64
}

// checksumTweak turns an index seed into the checksum seed.
const checksumTweak uint64 = 0xA0761D6478BD642F

// ChecksumSeed returns the seed of the 64-bit key checksum of a table whose
// index seed is seed: seed XOR 0xA0761D6478BD642F. The two seeds always
// differ, so the checksum is independent of the cell indexes.
func ChecksumSeed(seed uint64) uint64 { return seed ^ checksumTweak }

// String describes p, the seed included.
func (p Params) String() string {
	return fmt.Sprintf("cells=%d hashes=%d key-len=%d seed=%#x", p.Cells, p.Hashes, p.KeyLen, p.Seed)
}

// SizeBytes returns the memory of a table's cells, 8*Cells*(3+ceil(KeyLen/8))
// bytes (a count, a value sum and a checksum, then the key's words), for
// parameters that [Params.Validate] accepts; its encoding is 24 bytes
// more. For others it returns 0.
func (p Params) SizeBytes() int {
	if p.Validate() != nil {
		return 0
	}
	return 8 * p.Cells * cellWords(p.KeyLen) // Validate keeps it within an int
}

// Validate reports whether p describes a valid table.
func (p Params) Validate() error {
	switch {
	case p.Hashes < 1 || p.Hashes > MaxHashes:
		return fmt.Errorf("iblt: hashes must be in [1, %d], got %d", MaxHashes, p.Hashes)
	case p.KeyLen < 1 || p.KeyLen > MaxKeyLen:
		return fmt.Errorf("iblt: key length must be in [1, %d], got %d", MaxKeyLen, p.KeyLen)
	case p.Cells < p.Hashes || p.Cells > MaxCells:
		return fmt.Errorf("iblt: cells must be in [%d, %d] for %d hashes, got %d", p.Hashes, MaxCells, p.Hashes, p.Cells)
	case p.Cells%p.Hashes != 0:
		return fmt.Errorf("iblt: cells must be a multiple of hashes (%d), got %d", p.Hashes, p.Cells)
	}
	if most := maxCellsFor(p.Hashes, p.KeyLen); p.Cells > most {
		return fmt.Errorf("iblt: cells must be at most %d for %d hashes and %d-byte keys on a %d-bit platform (the table's encoding, %d + 8*cells*%d bytes, must fit in an int), got %d",
			most, p.Hashes, p.KeyLen, strconv.IntSize, headerSize, cellWords(p.KeyLen), p.Cells)
	}
	return nil
}

// maxCellsFor returns the most cells a table of k hashes and keyLen-byte
// keys (both valid) can have: MaxCells rounded down to a multiple of k,
// or fewer where an int cannot hold the length of the table's encoding,
// headerSize + 8*cells*stride bytes (only on a 32-bit platform: on a
// 64-bit one MaxCells cells of the longest keys take 75 GB). The limit
// keeps the cells' memory, the length of MarshalBinary's result and
// every index into the cells within an int; computing it in uint64 keeps
// the product from wrapping, as Cells*stride in an int would.
func maxCellsFor(k, keyLen int) int {
	most := min((math.MaxInt-headerSize)/(8*uint64(cellWords(keyLen))), MaxCells)
	return int(most - most%uint64(k))
}

// cellWords returns the 64-bit words of a cell for keys of keyLen bytes:
// count, value sum and checksum, then the key's words.
func cellWords(keyLen int) int { return wKey + (keyLen+7)/8 }

// encodedLen returns the length of the encoding of a table of cells cells
// for keys of keyLen bytes: the header, then 8 bytes a word. It is
// computed in uint64, where no valid or decoded size can wrap.
func encodedLen(cells uint64, keyLen int) uint64 {
	return headerSize + 8*cells*uint64(cellWords(keyLen))
}

// Peeling thresholds c_k in cells per listed entry: the 2-core thresholds of
// random k-uniform hypergraphs, 1/c*_k with c*_k = min over x > 0 of
// x / (k (1 - e^-x)^(k-1)) (Goodrich and Mitzenmacher 2011, Table 1, for
// k = 3 to 7; k = 8 from the formula).
// Listing succeeds with high probability when m > (c_k + eps) * n.
var thresholds = [MaxHashes + 1]float64{0, 0, 2, 1.222, 1.295, 1.425, 1.570, 1.721, 1.869}

// Threshold returns c_k, the asymptotic cells per entry below which peeling
// fails with high probability, for k in [3, MaxHashes]; 0 otherwise.
func Threshold(k int) float64 {
	if k < 3 || k > MaxHashes {
		return 0
	}
	return thresholds[k]
}

// CellsFor returns the number of cells (a multiple of k) with which a
// k-hash table holding d entries lists them all with probability at least
// success, for k = 3 or 4, d >= 0 and success in (0, 1). Otherwise it
// returns an error.
//
// The model takes the larger of two sizes. The first is the threshold c_k
// times d, plus a finite-size window z*s_k*sqrt(d) (the 2-core threshold
// of a hypergraph with d edges fluctuates by O(1/sqrt(d)); z is the
// normal quantile of success), plus 3k. The second is the failure floor,
// which every k has: two entries that share all k cells can never be
// peeled. Each sub-table has m/k cells, so two given entries share all k
// cells with probability (k/m)^k, and d entries hold about
// d(d-1)/2*(k/m)^k such pairs (exactly the failure rate at d = 2; one
// entry always lists); keeping that at half the failure budget 1-success
// needs m >= k*(d(d-1)/(1-success))^(1/k). The floor grows like d^(2/k),
// so it binds at small d (for k = 4, below about d = 40 at success 0.99 and
// d = 200 at 0.999), and there k = 4 needs fewer cells than k = 3. s_k
// and the additive constant were fitted to measured decode rates
// (TestCellsFor_Success and TestCellsFor_HighSuccess check the result).
// For success at or below 0.5, z is taken as 0: the window never
// shrinks the size below c_k*d + 3k, so a low success asks for no fewer
// cells than success 0.5.
func CellsFor(d int, k int, success float64) (int, error) {
	if k != 3 && k != 4 {
		return 0, fmt.Errorf("iblt: sizing needs hashes 3 or 4, got %d", k)
	}
	if d < 0 {
		return 0, fmt.Errorf("iblt: differences must be non-negative, got %d", d)
	}
	if !(success > 0 && success < 1) {
		return 0, fmt.Errorf("iblt: success must be in (0, 1), got %v", success)
	}
	fail := 1 - success
	z := normalQuantile(success)
	if z < 0 {
		z = 0
	}
	s := []float64{3: 1.25, 4: 1.0}[k]
	n := float64(d)
	m := thresholds[k]*n + z*s*math.Sqrt(n) + 3*float64(k)
	// Pairs sharing all k cells: C(d,2) * (k/m)^k <= fail/2.
	if floor := float64(k) * math.Pow(n*(n-1)/fail, 1/float64(k)); floor > m {
		m = floor
	}
	// Compare as a float first: for huge d the int conversion would wrap.
	if m > MaxCells {
		return 0, fmt.Errorf("iblt: %d differences need %.4g cells, more than %d", d, m, MaxCells)
	}
	cells := int(math.Ceil(m/float64(k))) * k
	if cells > MaxCells {
		return 0, fmt.Errorf("iblt: %d differences need %d cells, more than %d", d, cells, MaxCells)
	}
	return cells, nil
}

// ParamsFor returns parameters for a table that lists d differences of
// keyLen-byte keys with probability at least success, choosing whichever of
// k = 3 and k = 4 needs fewer cells (k = 4 for small d, where the failure
// floor of k = 3 is higher: up to about d = 1,000 at success 0.99 and
// 10,000 at 0.999). When only one of them fits in [MaxCells], it is
// chosen; when neither does, the error is that of [CellsFor] for k = 3.
// When both need the same number of cells, k = 3 is chosen: an insert
// then updates three cells instead of four.
func ParamsFor(d, keyLen int, success float64, seed uint64) (Params, error) {
	// Either k can be past MaxCells alone: k = 4 needs more cells than
	// k = 3 at large d (from about 2.07e8 differences to 2.19e8 only k = 3
	// fits). Fail only when neither fits.
	m3, err3 := CellsFor(d, 3, success)
	m4, err4 := CellsFor(d, 4, success)
	if err3 != nil && err4 != nil {
		return Params{}, err3
	}
	p := Params{Cells: m3, Hashes: 3, KeyLen: keyLen, Seed: seed}
	if err3 != nil || (err4 == nil && m4 < m3) {
		p.Cells, p.Hashes = m4, 4
	}
	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	return p, nil
}

// normalQuantile returns the p-quantile of the standard normal distribution
// (Acklam's rational approximation, relative error below 1.2e-9).
func normalQuantile(p float64) float64 {
	a := [6]float64{-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
	b := [5]float64{-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01}
	c := [6]float64{-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
	d := [4]float64{7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00}
	const lo = 0.02425
	switch {
	case p < lo:
		q := math.Sqrt(-2 * math.Log(p))
		return (((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	case p <= 1-lo:
		q := p - 0.5
		r := q * q
		return (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r + a[5]) * q / (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r + 1)
	default:
		q := math.Sqrt(-2 * math.Log(1-p))
		return -(((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	}
}
