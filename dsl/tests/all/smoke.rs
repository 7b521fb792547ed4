use pappus_dsl::{check, parse, print, Env};

#[test]
fn smoke() {
    let src = "
# log rendering
function Access (token) => (request);
function FanOut (auth_response, topic) => (requests);
function Render (responses) => (page);

composition RenderLogs (Token, Topic) => (Page) {
    Access (token = all Token) => (AuthReq = request);
    http (request = each AuthReq) => (AuthResp = response);
    FanOut (auth_response = all AuthResp, topic = all Topic) => (LogReqs = requests);
    http (request = each LogReqs) => (LogResp = response);
    Render (responses = all LogResp) => (Page = page);
}
";
    let file = parse(src).unwrap();
    let printed = print(&file);
    println!("{printed}");
    assert!(parse(&printed).unwrap().same_as(&file));
    let c = check(&file, &Env::new());
    for d in &c.diagnostics { println!("{}", d.render("x.pap", src)); }
    assert!(!c.has_errors());
    println!("{:#?}", c.plans[0]);
    let bad = "composition C (A) => (B) {\n  F (x = all A) => (B = y);\n  eachX (x = each Q) => (Z = y) by Q inner Q;\n  G (x = all\n}\n";
    match parse(bad) { Err(d) => for d in d { println!("{}", d.render("bad.pap", bad)); }, Ok(f) => {
        for d in check(&f, &Env::new()).diagnostics { println!("{}", d.render("bad.pap", bad)); } } }
}
