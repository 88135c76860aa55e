//! A grid over one layer's extent, for locating many points (a month of police.uk crimes,
//! a whole store's reassignment). A cell that no edge of the layer touches lies wholly in
//! one area, or in none, so a point there is answered by the cell alone; only a point in a
//! cell an edge touches is tested against the shapes. Building it costs a few
//! milliseconds, which one point does not repay: the locator builds it when asked.

use geo::{Coord, MultiPolygon};

/// Cells per side at most: 4 MiB of cells for a layer.
const MAX_SIDE: usize = 1024;
/// A cell an edge touches: test the shapes.
const EDGE: u32 = u32::MAX;
/// A cell in no area of the layer.
const NONE: u32 = u32::MAX - 1;

/// What the grid says of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cell {
    /// In an area: the locator's index of it.
    In(usize),
    /// In no area of the layer.
    Outside,
    /// Near an edge: only the shapes can tell.
    Edge,
}

#[derive(Debug, Clone)]
pub(super) struct Grid {
    min: Coord<f64>,
    max: Coord<f64>,
    /// A cell's width and height.
    size: Coord<f64>,
    nx: usize,
    ny: usize,
    cells: Vec<u32>,
}

impl Grid {
    /// The grid of the shapes of one layer (each with the locator's index of its area);
    /// `exact` is the locator's own answer for a point (the index, or none), asked once for
    /// each run of cells along a row that no edge touches. `None` when the layer has no
    /// extent to grid.
    pub(super) fn new<'a>(
        shapes: impl IntoIterator<Item = &'a MultiPolygon<f64>>,
        exact: impl Fn(Coord<f64>) -> Option<usize>,
    ) -> Option<Grid> {
        let mut edges = super::prepared::edges(shapes);
        edges.retain(|(a, b)| [a.x, a.y, b.x, b.y].iter().all(|v| v.is_finite()));
        let (min, max) = super::prepared::extent(&edges);
        if !(max.x > min.x && max.y > min.y) {
            return None;
        }
        // About eight cells along an average edge's share of the side.
        let side = ((edges.len() as f64).sqrt() * 8.0).clamp(16.0, MAX_SIDE as f64) as usize;
        let size = Coord {
            x: (max.x - min.x) / side as f64,
            y: (max.y - min.y) / side as f64,
        };
        let mut grid = Grid {
            min,
            max,
            size,
            nx: side,
            ny: side,
            cells: vec![0; side * side],
        };
        for (a, b) in edges {
            grid.mark(a, b);
        }
        grid.label(exact);
        Some(grid)
    }

    /// Marks every cell the edge a–b touches, with a margin far wider than any rounding in
    /// the arithmetic here or in [`Grid::cell`], so a cell left unmarked is one the edge
    /// truly misses.
    fn mark(&mut self, a: Coord<f64>, b: Coord<f64>) {
        let margin = Coord {
            x: self.size.x * 1e-3,
            y: self.size.y * 1e-3,
        };
        let (ylo, yhi) = (a.y.min(b.y), a.y.max(b.y));
        let rows = self.row(ylo - margin.y)..=self.row(yhi + margin.y);
        for j in rows {
            // The part of the edge within this row (and its margins).
            let band_lo = (self.min.y + j as f64 * self.size.y - margin.y).max(ylo);
            let band_hi = (self.min.y + (j + 1) as f64 * self.size.y + margin.y).min(yhi);
            let (x1, x2) = if b.y == a.y {
                (a.x, b.x)
            } else {
                let x_at = |y: f64| {
                    let t = ((y - a.y) / (b.y - a.y)).clamp(0.0, 1.0);
                    a.x + t * (b.x - a.x)
                };
                (x_at(band_lo), x_at(band_hi))
            };
            let first = self.col(x1.min(x2) - margin.x);
            let last = self.col(x1.max(x2) + margin.x);
            let row = j * self.nx;
            for cell in &mut self.cells[row + first..=row + last] {
                *cell = EDGE;
            }
        }
    }

    /// Gives each cell no edge touches its area: cells side by side in a row, or one above
    /// the other, that no edge touches are in the same area, so `exact` is asked once per
    /// run of them that has no such cell above it.
    fn label(&mut self, exact: impl Fn(Coord<f64>) -> Option<usize>) {
        for j in 0..self.ny {
            let mut i = 0;
            while i < self.nx {
                if self.cells[j * self.nx + i] == EDGE {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < self.nx && self.cells[j * self.nx + i] != EDGE {
                    i += 1;
                }
                let above = (j > 0)
                    .then(|| {
                        (start..i)
                            .map(|k| self.cells[(j - 1) * self.nx + k])
                            .find(|c| *c != EDGE)
                    })
                    .flatten();
                let value = above.unwrap_or_else(|| {
                    let centre = Coord {
                        x: self.min.x + (start as f64 + 0.5) * self.size.x,
                        y: self.min.y + (j as f64 + 0.5) * self.size.y,
                    };
                    exact(centre)
                        .and_then(|k| u32::try_from(k).ok())
                        .filter(|k| *k < NONE)
                        .unwrap_or(NONE)
                });
                for cell in &mut self.cells[j * self.nx + start..j * self.nx + i] {
                    *cell = value;
                }
            }
        }
    }

    fn col(&self, x: f64) -> usize {
        index(x, self.min.x, self.size.x, self.nx)
    }

    fn row(&self, y: f64) -> usize {
        index(y, self.min.y, self.size.y, self.ny)
    }

    /// What the grid says of point `p`.
    pub(super) fn cell(&self, p: Coord<f64>) -> Cell {
        // Outside the extent of every edge is outside every area (and so is NaN).
        if !(p.x >= self.min.x && p.x <= self.max.x && p.y >= self.min.y && p.y <= self.max.y) {
            return Cell::Outside;
        }
        match self.cells[self.row(p.y) * self.nx + self.col(p.x)] {
            EDGE => Cell::Edge,
            NONE => Cell::Outside,
            k => Cell::In(k as usize),
        }
    }
}

/// The cell along one axis of coordinate `v`, clamped to the grid.
fn index(v: f64, min: f64, size: f64, n: usize) -> usize {
    let k = ((v - min) / size).floor();
    if k.is_nan() || k < 0.0 {
        0
    } else {
        (k as usize).min(n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Intersects, polygon};

    fn shapes() -> Vec<MultiPolygon<f64>> {
        vec![
            // A square with a square hole, and a triangle beside it sharing an edge.
            MultiPolygon(vec![polygon!(
                exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0), (x: 0.0, y: 0.0)],
                interiors: [[(x: 3.0, y: 3.0), (x: 6.0, y: 3.0), (x: 6.0, y: 6.0), (x: 3.0, y: 6.0), (x: 3.0, y: 3.0)]],
            )]),
            MultiPolygon(vec![polygon![
                (x: 10.0, y: 0.0), (x: 17.0, y: 5.0), (x: 10.0, y: 10.0), (x: 10.0, y: 0.0)
            ]]),
            // An island inside the first one's hole.
            MultiPolygon(vec![polygon![
                (x: 3.5, y: 3.5), (x: 5.5, y: 3.5), (x: 5.5, y: 5.5), (x: 3.5, y: 5.5), (x: 3.5, y: 3.5)
            ]]),
        ]
    }

    fn exact(shapes: &[MultiPolygon<f64>], p: Coord<f64>) -> Option<usize> {
        shapes.iter().position(|s| s.intersects(&p))
    }

    /// Every point the grid answers by its cell is answered as the shapes answer it; the
    /// rest it leaves to them. On a fine lattice, on the cells' own lines, and at vertices.
    #[test]
    fn a_cell_answers_only_what_the_shapes_would() {
        let shapes = shapes();
        let grid = Grid::new(&shapes, |p| exact(&shapes, p)).expect("an extent");
        let mut by_cell = 0;
        let mut points = Vec::new();
        for i in -20..=360 {
            for j in -20..=220 {
                points.push(Coord {
                    x: f64::from(i) * 0.05,
                    y: f64::from(j) * 0.05,
                });
            }
        }
        // Points on the grid's own cell lines.
        for k in 0..=grid.nx {
            for j in 0..50 {
                points.push(Coord {
                    x: grid.min.x + k as f64 * grid.size.x,
                    y: f64::from(j) * 0.2,
                });
            }
        }
        for p in points {
            match grid.cell(p) {
                Cell::In(k) => {
                    assert_eq!(Some(k), exact(&shapes, p), "{p:?}");
                    by_cell += 1;
                }
                Cell::Outside => assert_eq!(None, exact(&shapes, p), "{p:?}"),
                Cell::Edge => {}
            }
        }
        assert!(
            by_cell > 40_000,
            "most points are answered by their cell: {by_cell}"
        );
        // Vertices and edges are never answered by a cell.
        for p in [(0.0, 0.0), (10.0, 5.0), (3.0, 4.5), (17.0, 5.0), (4.5, 3.5)] {
            assert_eq!(grid.cell(Coord { x: p.0, y: p.1 }), Cell::Edge, "{p:?}");
        }
        assert_eq!(grid.cell(Coord { x: 20.0, y: 5.0 }), Cell::Outside);
        assert_eq!(
            grid.cell(Coord {
                x: f64::NAN,
                y: 5.0
            }),
            Cell::Outside
        );
        assert_eq!(grid.cell(Coord { x: 1.0, y: 8.0 }), Cell::In(0));
        assert_eq!(grid.cell(Coord { x: 4.5, y: 4.5 }), Cell::In(2));
        assert_eq!(grid.cell(Coord { x: 1.0, y: 10.5 }), Cell::Outside);
    }

    #[test]
    fn a_layer_without_an_extent_has_no_grid() {
        assert!(Grid::new(&[], |_| None).is_none());
        let flat = [MultiPolygon(vec![polygon![
            (x: 0.0, y: 1.0), (x: 2.0, y: 1.0), (x: 0.0, y: 1.0)
        ]])];
        assert!(Grid::new(&flat, |_| None).is_none());
    }
}
