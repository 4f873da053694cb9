package ref

import (
	"math"

	"github.com/crossgrad/crossgrad/backend"
)

// SoftmaxXent computes softmax cross-entropy against integer labels,
// averaged over the N rows as torch.nn.CrossEntropyLoss. With row n of
// logits[N][C] and label t = labels[n] (a class index stored as float), in
// float64 with max subtraction:
//
//	loss_n = log(sum_j exp(x_j - max)) + max - x_t
//	dlogits[n][j] = (softmax(x)_j - [j == t]) / N
//	stats[0] = sum_n loss_n / N
//	stats[1] = number of rows whose FIRST maximal logit index is t
//
// A label that is not an integer in [0, C) makes its loss NaN, adds no
// one-hot term to the gradient and never counts as correct.
// logits and labels are read; dlogits[N*C] and stats[2] are overwritten.
func SoftmaxXent(p backend.SoftmaxXent, logits, labels, dlogits, stats []float32) {
	n, c := int(p.N), int(p.C)
	var loss float64
	correct := 0
	for r := range n {
		x := logits[r*c:][:c]
		lf := labels[r]
		t := -1
		if lf >= 0 && lf < float32(c) && lf == float32(int(lf)) {
			t = int(lf)
		}
		arg := 0
		for j, v := range x {
			if v > x[arg] {
				arg = j
			}
		}
		mx := float64(x[arg])
		var sum float64
		for _, v := range x {
			sum += math.Exp(float64(v) - mx)
		}
		lse := math.Log(sum) + mx
		if t >= 0 {
			loss += lse - float64(x[t])
		} else {
			loss = math.NaN()
		}
		if arg == t {
			correct++
		}
		d := dlogits[r*c:][:c]
		for j, v := range x {
			g := math.Exp(float64(v) - lse)
			if j == t {
				g--
			}
			d[j] = float32(g / float64(n))
		}
	}
	stats[0] = float32(loss / float64(n))
	stats[1] = float32(correct)
}
