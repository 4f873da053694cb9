package testutil

import (
	"fmt"
	"sync"
	"time"

	"github.com/crossgrad/crossgrad/backend"
)

// TileFake wraps Device (a reference device, which it owns: Close closes
// it) with a tile engine of two configurations, v=1 (the default) and v=2,
// that compute the same: a tiled dispatch run with v=1 takes Slow more wall
// time, and the device has no kernel timers, so a tuner timing the wall
// clock finds v=2 faster. It counts the tiled dispatches per configuration
// and the SetTile calls. A gemm of M == Square rows (when Square > 0) only
// fills C with ones, so that timing a large product costs little. Safe for
// concurrent use.
type TileFake struct {
	backend.Device
	ID     backend.TuneIdentity
	Slow   time.Duration
	Square uint32

	mu    sync.Mutex
	table map[backend.TuneKey]backend.TileConfig
	ran   map[backend.TileConfig]int
	sets  int
}

// NewTileFake returns a TileFake over dev with identity id whose v=1 takes
// slow more per dispatch.
func NewTileFake(dev backend.Device, id backend.TuneIdentity, slow time.Duration) *TileFake {
	return &TileFake{Device: dev, ID: id, Slow: slow, table: map[backend.TuneKey]backend.TileConfig{}, ran: map[backend.TileConfig]int{}}
}

// KernelTimes reports that the fake has no timers.
func (d *TileFake) KernelTimes() (map[backend.Kernel]backend.KernelTime, error) {
	return nil, backend.ErrUnsupported
}

// TuneIdentity implements backend.Tuner.
func (d *TileFake) TuneIdentity() backend.TuneIdentity { return d.ID }

// DefaultTile implements backend.Tuner: v=1.
func (d *TileFake) DefaultTile(backend.Params) backend.TileConfig { return "v=1" }

// TileCandidates implements backend.Tuner: v=1, v=2.
func (d *TileFake) TileCandidates(backend.Params) []backend.TileConfig {
	return []backend.TileConfig{"v=1", "v=2"}
}

// CheckTile implements backend.Tuner: v=1 and v=2 run, nothing else.
func (d *TileFake) CheckTile(_ backend.Params, c backend.TileConfig) error {
	if c != "v=1" && c != "v=2" {
		return fmt.Errorf("tile fake: no configuration %q (want v=1 or v=2)", c)
	}
	return nil
}

// DispatchTile implements backend.Tuner.
func (d *TileFake) DispatchTile(c backend.TileConfig, p backend.Params, bufs ...backend.Buffer) error {
	if err := d.CheckTile(p, c); err != nil {
		return err
	}
	return d.run(c, p, bufs)
}

// SetTile implements backend.Tuner.
func (d *TileFake) SetTile(p backend.Params, c backend.TileConfig) error {
	if c != "" {
		if err := d.CheckTile(p, c); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sets++
	d.table[backend.KeyOf(p)] = c
	return nil
}

// Dispatch runs tiled kernels with the configuration set for their key.
func (d *TileFake) Dispatch(p backend.Params, bufs ...backend.Buffer) error {
	if !backend.IsTiled(p.Kernel()) {
		return d.Device.Dispatch(p, bufs...)
	}
	return d.run(d.Tile(backend.KeyOf(p)), p, bufs)
}

// Tile is the configuration dispatches with key k run: the one set, else v=1.
func (d *TileFake) Tile(k backend.TuneKey) backend.TileConfig {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.table[k]; c != "" {
		return c
	}
	return "v=1"
}

// Ran is the number of tiled dispatches run with c.
func (d *TileFake) Ran(c backend.TileConfig) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ran[c]
}

// Sets is the number of SetTile calls.
func (d *TileFake) Sets() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sets
}

func (d *TileFake) run(c backend.TileConfig, p backend.Params, bufs []backend.Buffer) error {
	d.mu.Lock()
	d.ran[c]++
	d.mu.Unlock()
	if c == "v=1" {
		time.Sleep(d.Slow)
	}
	if g, ok := p.(backend.Gemm); ok && d.Square > 0 && g.M == d.Square {
		return d.Device.Dispatch(backend.Fill{N: g.M * g.N, Value: 1}, bufs[2])
	}
	return d.Device.Dispatch(p, bufs...)
}
