//! A size law's part of a report: the fit's own table points with the law's prediction at each
//! (parity), iso-N curves and the compute-optimal frontier over compute, and the IsoFLOP
//! analysis of the same table when its points fall into compute budgets.

use crate::error::Result;
use crate::fit::FitRecord;
use crate::ingest::table::RunTable;
use crate::law::{Law, TablePoints};
use serde::{Deserialize, Serialize};

/// One size-law fit over its table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SizeSection {
    pub law: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_file: Option<String>,
    /// The fit record, exactly as the fit file holds it.
    pub record: FitRecord,
    /// The table's points after the fit's own filters, and the law's prediction at each.
    pub n: Vec<f64>,
    pub d: Vec<f64>,
    pub c: Vec<f64>,
    pub loss: Vec<f64>,
    pub predicted: Vec<f64>,
    /// The law at fixed N over compute (D = C/6N), for a few sizes of the table.
    pub iso_n: Vec<IsoN>,
    /// Chinchilla fits: the loss at N_opt(C), D_opt(C) over compute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontier: Option<Frontier>,
    /// `isoflop::analyse` of the same points, or why there is none.
    pub isoflop: std::result::Result<crate::sizes::isoflop::IsoflopResult, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IsoN {
    pub n: f64,
    pub c: Vec<f64>,
    pub loss: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Frontier {
    pub c: Vec<f64>,
    pub n_opt: Vec<f64>,
    pub d_opt: Vec<f64>,
    pub loss: Vec<f64>,
}

fn predict(law: &dyn Law, params: &[f64], n: &[f64], d: &[f64]) -> Result<Vec<f64>> {
    let f = law.table_features(&TablePoints { n, d })?;
    let mut out = vec![0.0; n.len()];
    law.predict(params, &f, &mut out);
    Ok(out)
}

/// The section of `record` (a size law) over `table`, filtered as the fit filtered it.
pub fn section(
    law: &dyn Law,
    record: &FitRecord,
    fit_file: Option<String>,
    table: &RunTable,
) -> Result<SizeSection> {
    let params = record.param_vector(law)?;
    let table = match &record.options.table_filters {
        Some(f) => table.filtered(f)?.0,
        None => table.clone(),
    };
    let predicted = predict(law, &params, &table.n, &table.d)?;
    let (clo, chi) = table
        .c
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(l, h), &c| (l.min(c), h.max(c)));
    let grid = crate::plot::size::geomspace(clo / 2.0, chi * 2.0, 60);
    let iso_n = crate::plot::size::representative_sizes(&table.n, 6)
        .into_iter()
        .map(|n| {
            let ns = vec![n; grid.len()];
            let ds: Vec<f64> = grid.iter().map(|c| c / (6.0 * n)).collect();
            Ok(IsoN {
                n,
                c: grid.clone(),
                loss: predict(law, &params, &ns, &ds)?,
            })
        })
        .collect::<Result<_>>()?;
    let frontier = if law.name() == "chinchilla" {
        let alloc: Vec<_> = grid
            .iter()
            .map(|&c| crate::law::chinchilla::optimal_allocation(&params, c))
            .collect::<Result<_>>()?;
        Some(Frontier {
            c: grid.clone(),
            n_opt: alloc.iter().map(|a| a.n_opt).collect(),
            d_opt: alloc.iter().map(|a| a.d_opt).collect(),
            loss: alloc.iter().map(|a| a.loss_pred).collect(),
        })
    } else {
        None
    };
    let isoflop = crate::sizes::isoflop::analyse(
        &table.c,
        &table.n,
        &table.loss,
        &crate::sizes::isoflop::IsoflopOptions::default(),
    )
    .map_err(|e| e.to_string());
    Ok(SizeSection {
        law: record.law.clone(),
        fit_file,
        record: record.clone(),
        n: table.n,
        d: table.d,
        c: table.c,
        loss: table.loss,
        predicted,
        iso_n,
        frontier,
        isoflop,
    })
}
