// Learners present and their states, per snapshot
// For every snapshot the graph records: the learners its export held (new,
// changed, unchanged and kept with their row rejected, from its Snapshot
// record) and, of the learners present on that date (created by then and
// not marked missing before it, unless --include-missing), how many held
// each learning state and each professional status on that date, by the
// state history.
MATCH (s:Snapshot)
WITH s.date AS snapshotDate,
     coalesce(s.learnersNew, 0) + coalesce(s.learnersChanged, 0) + coalesce(s.learnersUnchanged, 0)
       + coalesce(s.learnersKeptRowRejected, 0) AS present
CALL (snapshotDate) {
  MATCH (l:Learner)-[r:HAS_LEARNING_STATE|HAS_PROFESSIONAL_STATUS]->(held)
  WHERE coalesce(l.firstSnapshot, snapshotDate) <= snapshotDate
    AND ($includeMissing OR l.missingSince IS NULL OR l.missingSince > snapshotDate)
    AND coalesce(r.validFrom, date('0001-01-01')) <= snapshotDate
    AND (r.validTo IS NULL OR r.validTo > snapshotDate)
  RETURN CASE type(r) WHEN 'HAS_LEARNING_STATE' THEN 'learning state' ELSE 'professional status' END AS kind,
         coalesce(held.state, held.status) AS state, count(DISTINCT l) AS learners
}
RETURN snapshotDate, present, kind, state, learners
ORDER BY snapshotDate, kind, state
