//! Property: printing then parsing gives back the same tree (modulo spans), and the
//! printed form is a fixed point.

use pappus_dsl::ast::{
    Application, Composition, File, FunctionDecl, Ident, InputBinding, Item, JoinClause,
    OutputBinding,
};
use pappus_dsl::{parse, print, JoinKind, Mode, Span, KEYWORDS};
use proptest::prelude::*;

fn ident() -> impl Strategy<Value = Ident> {
    prop_oneof![
        "[A-Za-z_][A-Za-z0-9_]{0,8}",
        // keyword prefixes and suffixes must stay identifiers
        prop::sample::select(KEYWORDS).prop_map(|k| format!("{k}X")),
        prop::sample::select(KEYWORDS).prop_map(|k| format!("_{k}")),
    ]
    .prop_filter("keywords are reserved", |s| !KEYWORDS.contains(&s.as_str()))
    .prop_map(|s| Ident::new(s, Span::default()))
}

fn mode() -> impl Strategy<Value = Mode> {
    prop::sample::select(&[Mode::All, Mode::Each, Mode::Keyed, Mode::Named][..])
}

fn join_kind() -> impl Strategy<Value = JoinKind> {
    prop::sample::select(
        &[
            JoinKind::Inner,
            JoinKind::Left,
            JoinKind::Right,
            JoinKind::Outer,
            JoinKind::Cross,
        ][..],
    )
}

fn application() -> impl Strategy<Value = Application> {
    let input =
        (ident(), any::<bool>(), mode(), ident()).prop_map(|(param, optional, mode, set)| {
            InputBinding {
                param,
                optional,
                mode,
                set,
                span: Span::default(),
            }
        });
    let output = (ident(), ident()).prop_map(|(set, output)| OutputBinding {
        set,
        output,
        span: Span::default(),
    });
    let join =
        (ident(), prop::collection::vec((join_kind(), ident()), 1..4)).prop_map(|(first, rest)| {
            JoinClause {
                first,
                rest,
                span: Span::default(),
            }
        });
    (
        ident(),
        prop::collection::vec(input, 0..4),
        prop::collection::vec(output, 0..3),
        prop::option::of(join),
        prop::option::of(ident()),
    )
        .prop_map(|(callee, inputs, outputs, join, catch)| Application {
            callee,
            inputs,
            outputs,
            join,
            catch,
            span: Span::default(),
        })
}

fn item() -> impl Strategy<Value = Item> {
    let names = || prop::collection::vec(ident(), 0..4);
    prop_oneof![
        (ident(), names(), names()).prop_map(|(name, inputs, outputs)| Item::Function(
            FunctionDecl {
                name,
                inputs,
                outputs,
                span: Span::default()
            }
        )),
        (
            ident(),
            names(),
            names(),
            prop::collection::vec(application(), 0..5)
        )
            .prop_map(
                |(name, inputs, outputs, body)| Item::Composition(Composition {
                    name,
                    inputs,
                    outputs,
                    body,
                    span: Span::default()
                })
            ),
    ]
}

fn file() -> impl Strategy<Value = File> {
    prop::collection::vec(item(), 0..5).prop_map(|items| File { items })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn print_then_parse_is_identity(f in file()) {
        let text = print(&f);
        let parsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        prop_assert!(parsed.same_as(&f), "{}", text);
        prop_assert_eq!(print(&parsed), text);
    }
}

#[test]
fn formatting_is_canonical() {
    let src = "# comment\nfunction   F(x,y,)=>(z) ;composition C(A)=>(B){F(x=optional each A,y=keyed A)=>(B=z)by A   cross A;}";
    let f = parse(src).unwrap();
    assert_eq!(
        print(&f),
        "function F (x, y) => (z);\n\ncomposition C (A) => (B) {\n    F (x = optional each A, y = keyed A) => (B = z) by A cross A;\n}\n"
    );
    assert!(parse(&print(&f)).unwrap().same_as(&f));
    assert!(
        !parse(&print(&f)).unwrap().eq(&f),
        "spans differ, so derived equality differs"
    );
}
