//! The condition language: parsing, then evaluating, settling and describing whatever parsed.
#![no_main]

use doorstep::survey::Answer;
use doorstep::survey::expr::Expr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| {
    let Ok(expr) = Expr::parse(source) else {
        return;
    };
    let yes = Answer::YesNo(true);
    let three = Answer::Number(3.0);
    let lookup = |id: &str| match id.len() % 3 {
        0 => None,
        1 => Some(&yes),
        _ => Some(&three),
    };
    let _ = expr.eval(&lookup, Some(&three));
    let _ = expr.settled(&lookup);
    let _ = expr.describe(&|id| id.to_uppercase(), &|_, v| Some(v.to_owned()));
    let _ = expr.references();
    let _ = expr.literal_uses();
});
