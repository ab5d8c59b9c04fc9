fn main() {
    let oracle = std::fs::read_to_string("../shared/corpus/ORACLE.tsv").unwrap();
    for p in std::env::args().skip(1) {
        let row = oracle.lines().find(|l| l.starts_with(&format!("{p}\t"))).unwrap();
        let grid: serde_json::Value = serde_json::from_str(row.split('\t').nth(5).unwrap()).unwrap();
        let bytes = std::fs::read(format!("../shared/corpus/{p}")).unwrap();
        let px = imgbatch::decode_upright(&bytes, &Default::default()).unwrap();
        let n = px.channels();
        let w = px.width as usize;
        let gx = grid[0].as_u64().unwrap() as usize;
        let cw = w / gx; let ch = px.height as usize / grid[1].as_u64().unwrap() as usize;
        for cell in [0usize, 5, 40, 100, 200] {
            let (i, j) = (cell % gx, cell / gx);
            let at = ((j * ch + ch/2) * w + i * cw + cw/2) * n;
            println!("{p} cell {cell}: oracle {:?} ours-center-pixel {:?}", &grid[2].as_array().unwrap()[cell*4..cell*4+4], &px.data[at..at+n]);
        }
    }
}
