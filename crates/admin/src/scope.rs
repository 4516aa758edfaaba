//! Data scopes: which departments' rows a caller may see.
//!
//! Each role has one scope — all / chosen departments / own department / own department and below /
//! self — and a user's roles combine with OR: the visible set is the union of what each grants.

use crate::{Admin, Caller};
use shuju_store::departments::Department;
use shuju_types::Result;
use std::collections::{BTreeSet, HashMap};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataScope {
    All,
    /// Chosen departments.
    Custom(Vec<i64>),
    /// The caller's own department.
    Dept,
    /// The caller's department and every department below it.
    DeptAndBelow,
    /// Only the caller's own records.
    SelfOnly,
}

impl DataScope {
    pub fn key(&self) -> &'static str {
        match self {
            DataScope::All => "all",
            DataScope::Custom(_) => "custom",
            DataScope::Dept => "dept",
            DataScope::DeptAndBelow => "dept_and_below",
            DataScope::SelfOnly => "self",
        }
    }

    pub const KEYS: [&'static str; 5] = ["all", "custom", "dept", "dept_and_below", "self"];
}

/// What a caller may see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Visibility {
    pub all: bool,
    pub depts: BTreeSet<i64>,
    /// The caller's own user id (the "self" scope always sees its own record).
    pub self_user: Option<i64>,
}

impl Visibility {
    pub fn sees_dept(&self, id: i64) -> bool {
        self.all || self.depts.contains(&id)
    }

    pub fn sees_user(&self, user_id: i64, dept_id: i64) -> bool {
        self.sees_dept(dept_id) || self.self_user == Some(user_id)
    }
}

/// The department tree, for subtree queries.
#[derive(Clone, Debug, Default)]
pub struct DeptTree {
    pub depts: Vec<Department>,
    children: HashMap<Option<i64>, Vec<i64>>,
}

impl DeptTree {
    pub fn new(depts: Vec<Department>) -> Self {
        let mut children: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
        for d in &depts {
            children.entry(d.parent_id).or_default().push(d.id);
        }
        DeptTree { depts, children }
    }

    /// `id` and every department below it.
    pub fn subtree(&self, id: i64) -> BTreeSet<i64> {
        let mut out = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(x) = stack.pop() {
            if out.insert(x)
                && let Some(kids) = self.children.get(&Some(x))
            {
                stack.extend(kids);
            }
        }
        out
    }

    pub fn children(&self, id: Option<i64>) -> &[i64] {
        self.children.get(&id).map_or(&[], Vec::as_slice)
    }

    pub fn get(&self, id: i64) -> Option<&Department> {
        self.depts.iter().find(|d| d.id == id)
    }

    /// Departments in tree order (parents before children) with their depth.
    pub fn ordered(&self) -> Vec<(usize, &Department)> {
        let mut out = Vec::with_capacity(self.depts.len());
        let roots: Vec<i64> = self
            .depts
            .iter()
            .filter(|d| d.parent_id.is_none_or(|p| self.get(p).is_none()))
            .map(|d| d.id)
            .collect();
        let mut stack: Vec<(usize, i64)> = roots.into_iter().rev().map(|r| (0, r)).collect();
        while let Some((depth, id)) = stack.pop() {
            if let Some(d) = self.get(id) {
                out.push((depth, d));
                for k in self.children(Some(id)).iter().rev() {
                    stack.push((depth + 1, *k));
                }
            }
        }
        out
    }

    /// Would making `parent` the parent of `id` create a cycle?
    pub fn would_cycle(&self, id: i64, parent: i64) -> bool {
        self.subtree(id).contains(&parent)
    }
}

/// Combine scopes with OR.
pub fn visibility(
    scopes: &[DataScope],
    own_dept: Option<i64>,
    user_id: Option<i64>,
    tree: &DeptTree,
) -> Visibility {
    let mut v = Visibility {
        self_user: user_id,
        ..Visibility::default()
    };
    for s in scopes {
        match s {
            DataScope::All => v.all = true,
            DataScope::Custom(ids) => v.depts.extend(ids),
            DataScope::Dept => v.depts.extend(own_dept),
            DataScope::DeptAndBelow => {
                if let Some(d) = own_dept {
                    v.depts.extend(tree.subtree(d));
                }
            }
            DataScope::SelfOnly => {}
        }
    }
    v
}

impl Admin {
    pub async fn dept_tree(&self) -> Result<DeptTree> {
        Ok(DeptTree::new(
            shuju_store::departments::all(&self.store).await?,
        ))
    }

    /// What the caller may see.
    pub async fn visibility(&self, c: &Caller) -> Result<Visibility> {
        if c.scopes.contains(&DataScope::All) {
            return Ok(Visibility {
                all: true,
                self_user: c.user_id,
                ..Visibility::default()
            });
        }
        let tree = self.dept_tree().await?;
        Ok(visibility(&c.scopes, c.dept_id, c.user_id, &tree))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: i64, parent: Option<i64>) -> Department {
        Department {
            id,
            parent_id: parent,
            name: format!("d{id}"),
            short_code: None,
            division_code: "371500".into(),
            uscc: None,
            leader: None,
            contact: None,
            status: "active".into(),
            sort_order: 0,
            created_by: "t".into(),
            created_at: "t".into(),
            updated_by: "t".into(),
            updated_at: "t".into(),
        }
    }

    #[test]
    fn scopes_combine_with_or() {
        // 1 ─┬─ 2 ── 4
        //    └─ 3
        let tree = DeptTree::new(vec![
            d(1, None),
            d(2, Some(1)),
            d(3, Some(1)),
            d(4, Some(2)),
        ]);
        let v = visibility(&[DataScope::Dept], Some(2), Some(9), &tree);
        assert_eq!(v.depts, BTreeSet::from([2]));
        let v = visibility(&[DataScope::DeptAndBelow], Some(2), Some(9), &tree);
        assert_eq!(v.depts, BTreeSet::from([2, 4]));
        let v = visibility(
            &[DataScope::Dept, DataScope::Custom(vec![3])],
            Some(2),
            Some(9),
            &tree,
        );
        assert_eq!(v.depts, BTreeSet::from([2, 3]));
        let v = visibility(&[DataScope::SelfOnly], Some(2), Some(9), &tree);
        assert!(v.depts.is_empty() && !v.all);
        assert!(v.sees_user(9, 2) && !v.sees_user(8, 2));
        assert!(tree.would_cycle(1, 4));
        assert!(!tree.would_cycle(4, 3));
        let order: Vec<i64> = tree.ordered().iter().map(|(_, d)| d.id).collect();
        assert_eq!(order, vec![1, 2, 4, 3]);
    }
}
