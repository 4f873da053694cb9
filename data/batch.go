package data

import (
	"fmt"
	"sync"

	"github.com/crossgrad/crossgrad/backend"
)

// Options configure a Batcher.
type Options struct {
	// BatchSize is the number of images per batch (> 0). The last batch of
	// an epoch holds the remainder (PyTorch DataLoader, drop_last=False).
	BatchSize int
	// Shuffle permutes the images every epoch by Perm(n, Seed, epoch);
	// false serves them in file order (evaluation).
	Shuffle bool
	// Seed selects the shuffle order.
	Seed uint64
	// Limit uses only the first Limit images; 0 (or >= N) uses all.
	Limit int
	// Prefetch is the number of batches prepared ahead by Iter (1..4;
	// 0 means 1).
	Prefetch int
}

// Batch is one mini-batch, owned by the receiver (a fresh allocation per
// batch, never reused by the Batcher).
type Batch struct {
	Epoch int // epoch the batch belongs to
	Index int // position of the batch within its epoch, from 0
	N     int // images in the batch: BatchSize, or fewer for the last one
	Rows  int // image height
	Cols  int // image width
	// Images holds the N*Rows*Cols uint8 pixels, image-major, packed four
	// per float32 word by backend.PackBytes: (N*Rows*Cols+3)/4 words, ready
	// for a ResizeBilinear dispatch with Packed = 1.
	Images []float32
	// Labels holds the N class indices as float32 (0..NumClasses-1).
	Labels []float32
	// Items are the indices into the Set of the N images, in batch order.
	Items []int
}

// Batcher cuts a Set into mini-batches. It is immutable and safe for
// concurrent use.
type Batcher struct {
	set *Set
	opt Options
}

// NewBatcher validates o and returns a Batcher over s (shared, not copied).
func NewBatcher(s *Set, o Options) (*Batcher, error) {
	if s == nil || s.N <= 0 {
		return nil, fmt.Errorf("data: batcher needs a non-empty set")
	}
	if o.BatchSize <= 0 {
		return nil, fmt.Errorf("data: batch size must be positive, got %d", o.BatchSize)
	}
	if o.Limit < 0 {
		return nil, fmt.Errorf("data: limit must be >= 0 (0 = all), got %d", o.Limit)
	}
	if o.Prefetch < 0 || o.Prefetch > 4 {
		return nil, fmt.Errorf("data: prefetch must be 0..4, got %d", o.Prefetch)
	}
	if o.Prefetch == 0 {
		o.Prefetch = 1
	}
	return &Batcher{set: s.Head(o.Limit), opt: o}, nil
}

// Len is the number of images served per epoch (after Limit).
func (b *Batcher) Len() int { return b.set.N }

// NumBatches is the number of batches per epoch, the last one partial when
// BatchSize does not divide Len.
func (b *Batcher) NumBatches() int { return (b.set.N + b.opt.BatchSize - 1) / b.opt.BatchSize }

// Order returns the item order of epoch (a fresh slice).
func (b *Batcher) Order(epoch int) []int {
	if !b.opt.Shuffle {
		p := make([]int, b.set.N)
		for i := range p {
			p[i] = i
		}
		return p
	}
	return Perm(b.set.N, b.opt.Seed, epoch)
}

// Batch builds batch index of epoch (0 <= index < NumBatches()).
func (b *Batcher) Batch(epoch, index int) (Batch, error) {
	if index < 0 || index >= b.NumBatches() {
		return Batch{}, fmt.Errorf("data: batch %d out of range [0, %d)", index, b.NumBatches())
	}
	return b.build(epoch, index, b.Order(epoch)), nil
}

func (b *Batcher) build(epoch, index int, order []int) Batch {
	lo := index * b.opt.BatchSize
	hi := min(lo+b.opt.BatchSize, len(order))
	sz := b.set.ImageSize()
	n := hi - lo
	pix := make([]byte, n*sz)
	labels := make([]float32, n)
	items := append([]int(nil), order[lo:hi]...)
	for k, it := range items {
		copy(pix[k*sz:], b.set.Image(it))
		labels[k] = float32(b.set.Labels[it])
	}
	return Batch{
		Epoch: epoch, Index: index, N: n, Rows: b.set.Rows, Cols: b.set.Cols,
		Images: backend.PackBytes(pix), Labels: labels, Items: items,
	}
}

// Iter starts a goroutine preparing the batches of epoch from batch start
// (0 for a whole epoch, later to resume mid-epoch), Prefetch batches ahead.
// The caller must Close the iterator, also after exhausting it.
func (b *Batcher) Iter(epoch, start int) (*Iter, error) {
	nb := b.NumBatches()
	if start < 0 || start > nb {
		return nil, fmt.Errorf("data: start batch %d out of range [0, %d]", start, nb)
	}
	it := &Iter{ch: make(chan Batch, b.opt.Prefetch-1), stop: make(chan struct{})}
	go func() {
		defer close(it.ch)
		order := b.Order(epoch)
		for i := start; i < nb; i++ {
			bt := b.build(epoch, i, order)
			select {
			case it.ch <- bt:
			case <-it.stop:
				return
			}
		}
	}()
	return it, nil
}

// Iter is a prefetching batch iterator; the goroutine builds the next batch
// while the consumer uses the current one. Next is for one consumer
// goroutine; Close may be called from any goroutine, more than once.
type Iter struct {
	ch   chan Batch
	stop chan struct{}
	once sync.Once
}

// Next returns the next batch, or false when the epoch is done or the
// iterator closed.
func (it *Iter) Next() (Batch, bool) {
	select {
	case <-it.stop:
		return Batch{}, false
	default:
	}
	bt, ok := <-it.ch
	return bt, ok
}

// Close stops the goroutine and waits for it to exit.
func (it *Iter) Close() {
	it.once.Do(func() { close(it.stop) })
	for range it.ch { // drain until the goroutine closes ch on exit
	}
}
