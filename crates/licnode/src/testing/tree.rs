//! The tree of a multi-node test: which nodes it has, and their certificates issued with the
//! `licnode pki` commands exactly as the README does.

use std::path::Path;

use super::process::licnode;

/// One node of a test tree: its directory under the test's directory, code, level and name.
pub struct Planned {
    pub dir: &'static str,
    pub code: &'static str,
    pub level: &'static str,
    pub name: &'static str,
    /// The parent's directory; `None` for the national node.
    pub parent: Option<&'static str>,
    /// Whether it has children: it then listens for peers and, below national, runs a CA.
    pub has_children: bool,
    /// Whether to create its node directory and certificate (the national node of a test that
    /// needs only its root CA does not run).
    pub runs: bool,
}

/// The national node (the root CA in `national/pki/ca`).
pub const NATIONAL: Planned = Planned {
    dir: "national",
    code: "100000",
    level: "national",
    name: "全国工业产品生产许可证审查中心",
    parent: None,
    has_children: true,
    runs: true,
};

/// Zhejiang, under national.
pub const ZHEJIANG: Planned = Planned {
    dir: "zhejiang",
    code: "330000",
    level: "province",
    name: "浙江省市场监督管理局",
    parent: Some("national"),
    has_children: true,
    runs: true,
};

/// 西湖区, under Zhejiang.
pub const XIHU: Planned = Planned {
    dir: "xihu",
    code: "330106",
    level: "county",
    name: "杭州市西湖区市场监督管理局",
    parent: Some("zhejiang"),
    has_children: false,
    runs: true,
};

/// 滨江区, under Zhejiang.
pub const BINJIANG: Planned = Planned {
    dir: "binjiang",
    code: "330108",
    level: "county",
    name: "杭州市滨江区市场监督管理局",
    parent: Some("zhejiang"),
    has_children: false,
    runs: true,
};

/// Initialises each node (parents before children) and issues its certificates: the root CA at
/// national, an intermediate CA for a province with children, and a node certificate signed by
/// the CA above, installed with the root and the CRLs of its chain. Nodes that have a parent
/// start with a placeholder parent URL; tests set the real one.
pub fn issue_tree(dir: &Path, nodes: &[Planned]) {
    let any = "127.0.0.1:0";
    // The CA directory that signs each node's certificate, and the CRLs of its chain.
    let mut ca_of: Vec<(&str, String, Vec<String>)> = Vec::new();
    for node in nodes {
        if node.runs {
            let mut init = vec![
                "init", "--dir", node.dir, "--code", node.code, "--level", node.level, "--name",
                node.name, "--listen", any,
            ];
            if node.has_children {
                init.extend(["--peer-listen", any]);
            }
            if node.parent.is_some() {
                init.extend(["--parent-url", "https://127.0.0.1:1"]);
            }
            licnode(dir, &init);
        }
        let (signer, crls) = match node.parent {
            None => {
                licnode(dir, &["pki", "init-root", "--ca-dir", "national/pki/ca"]);
                let ca = format!("{}/pki/ca", node.dir);
                ca_of.push((node.dir, ca.clone(), vec![format!("{ca}/crl.pem")]));
                (ca, Vec::new())
            }
            Some(parent) => {
                let (_, signer, crls) = ca_of
                    .iter()
                    .find(|(dir, ..)| *dir == parent)
                    .unwrap_or_else(|| panic!("{parent} must come before {}", node.dir))
                    .clone();
                if node.has_children {
                    let (ca, chain) = issue_intermediate_ca(dir, node, &signer, &crls);
                    ca_of.push((node.dir, ca, chain));
                }
                (signer, crls)
            }
        };
        if !node.runs {
            continue;
        }
        // A node below a provincial CA also checks that CA's revocations.
        let mut chain = crls;
        if let Some((_, _, own)) = ca_of.iter().find(|(dir, ..)| *dir == node.dir)
            && node.parent.is_some()
        {
            chain = own.clone();
        }
        issue_node_certificate(dir, node, &signer, chain);
    }
    // The national node checks the provincial CAs' revocations too.
    let national_runs = nodes.iter().any(|node| node.parent.is_none() && node.runs);
    for node in nodes {
        if national_runs && node.parent == Some("national") && node.has_children && node.runs {
            let crl = format!("{}/pki/ca/crl.pem", node.dir);
            licnode(dir, &["pki", "install", "--dir", "national", "--crl", &crl]);
        }
    }
}

/// Makes `node` a CA of its own, signed by `signer`: returns its CA directory and the CRLs a
/// node below it checks (its signer's chain and its own).
fn issue_intermediate_ca(
    dir: &Path,
    node: &Planned,
    signer: &str,
    crls: &[String],
) -> (String, Vec<String>) {
    let ca = format!("{}/pki/ca", node.dir);
    let csr = format!("{ca}/request.csr");
    let crt = format!("{}-ca.crt", node.dir);
    licnode(
        dir,
        &[
            "pki", "request", "--ca-dir", &ca, "--code", node.code, "--level", node.level,
        ],
    );
    licnode(
        dir,
        &[
            "pki", "sign", "--ca-dir", signer, "--csr", &csr, "--ca", "--out", &crt,
        ],
    );
    licnode(
        dir,
        &[
            "pki",
            "install",
            "--ca-dir",
            &ca,
            "--cert",
            &crt,
            "--root",
            "national/pki/ca/root.crt",
        ],
    );
    let mut chain = crls.to_vec();
    chain.push(format!("{ca}/crl.pem"));
    (ca, chain)
}

/// Gives the running `node` its certificate, signed by `signer`, with the CRLs it checks.
fn issue_node_certificate(dir: &Path, node: &Planned, signer: &str, crls: Vec<String>) {
    let csr = format!("{}/pki/request.csr", node.dir);
    let crt = format!("{}.crt", node.dir);
    licnode(
        dir,
        &[
            "pki", "request", "--dir", node.dir, "--code", node.code, "--level", node.level,
        ],
    );
    licnode(
        dir,
        &[
            "pki", "sign", "--ca-dir", signer, "--csr", &csr, "--out", &crt,
        ],
    );
    let mut install = vec![
        "pki".to_string(),
        "install".into(),
        "--dir".into(),
        node.dir.into(),
        "--cert".into(),
        crt,
        "--root".into(),
        "national/pki/ca/root.crt".into(),
    ];
    for crl in crls {
        install.extend(["--crl".to_string(), crl]);
    }
    let install: Vec<&str> = install.iter().map(String::as_str).collect();
    licnode(dir, &install);
}
