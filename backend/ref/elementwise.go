package ref

import "github.com/crossgrad/crossgrad/backend"

// ReluFwd computes y[i] = x[i] if x[i] > 0, else 0 (NaN gives 0) for i < N.
// x and y may be the same slice.
func ReluFwd(p backend.ReluFwd, x, y []float32) {
	for i := range int(p.N) {
		if v := x[i]; v > 0 {
			y[i] = v
		} else {
			y[i] = 0
		}
	}
}

// ReluBwd computes dx[i] = dy[i] if y[i] > 0, else 0, from the forward
// output y. dx may be dy (or y).
func ReluBwd(p backend.ReluBwd, y, dy, dx []float32) {
	for i := range int(p.N) {
		if y[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// DropoutFwd computes y[i] = x[i]*Scale (one float32 rounding) when
// DropoutKeep(Seed, Step, Offset+i, P), else 0, for i < N. x and y may be the
// same slice.
func DropoutFwd(p backend.DropoutFwd, x, y []float32) {
	dropout(int(p.N), p.Seed, p.Step, p.Offset, p.P, p.Scale, x, y)
}

// DropoutBwd computes dx[i] = dy[i]*Scale when element i was kept by the
// DropoutFwd with the same Seed, Step, Offset and P, else 0. dx may be dy.
func DropoutBwd(p backend.DropoutBwd, dy, dx []float32) {
	dropout(int(p.N), p.Seed, p.Step, p.Offset, p.P, p.Scale, dy, dx)
}

func dropout(n int, seed, step, offset uint32, prob, scale float32, in, out []float32) {
	const chunk = 1 << 14
	parallelFor((n+chunk-1)/chunk, func(c int) {
		for i := c * chunk; i < min(n, (c+1)*chunk); i++ {
			if DropoutKeep(seed, step, offset+uint32(i), prob) {
				out[i] = in[i] * scale
			} else {
				out[i] = 0
			}
		}
	})
}

// BiasAdd adds b[c] to every row of y[Rows][Cols] in place (one float32
// rounding per element), then with Relu 1 clamps as ReluFwd.
func BiasAdd(p backend.BiasAdd, y, b []float32) {
	cols := int(p.Cols)
	for r := range int(p.Rows) {
		row := y[r*cols:][:cols]
		for c := range row {
			row[c] += b[c]
			if p.Relu != 0 {
				row[c] = relu(row[c])
			}
		}
	}
}

// relu is ReluFwd of one element: v when v > 0, else 0 (NaN gives 0).
func relu(v float32) float32 {
	if v > 0 {
		return v
	}
	return 0
}

// BiasGrad overwrites db[c] with the float64 column sum over r of
// dy[r][c], dy being Rows x Cols row-major; with MaskRelu 1 it first masks
// dy in place as ReluBwd over the ReLU output y (y is unread otherwise).
func BiasGrad(p backend.BiasGrad, dy, db, y []float32) {
	rows, cols := int(p.Rows), int(p.Cols)
	if p.MaskRelu != 0 {
		ReluBwd(backend.ReluBwd{N: uint32(rows * cols)}, y, dy, dy)
	}
	acc := make([]float64, cols)
	for r := range rows {
		for c, v := range dy[r*cols:][:cols] {
			acc[c] += float64(v)
		}
	}
	for c, v := range acc {
		db[c] = float32(v)
	}
}

// Fill sets x[i] = Value for i < N.
func Fill(p backend.Fill, x []float32) {
	for i := range int(p.N) {
		x[i] = p.Value
	}
}

// Axpy computes y[i] += Alpha*x[i] for i < N, in float64 with one rounding
// to float32. x may be y.
func Axpy(p backend.Axpy, x, y []float32) {
	a := float64(p.Alpha)
	for i := range int(p.N) {
		y[i] = float32(float64(y[i]) + a*float64(x[i]))
	}
}

// Scale computes x[i] *= Alpha for i < N (one float32 rounding).
func Scale(p backend.Scale, x []float32) {
	for i := range int(p.N) {
		x[i] *= p.Alpha
	}
}
