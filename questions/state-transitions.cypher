// Learning-state transitions between two snapshots, per program
// For the learners of each program (ENROLLED_IN): the learning state each
// held on the first date and on the second, by the validFrom / validTo of
// their state history, and how many learners made each move; `(none)`
// where no state covers the date. Without dates: the snapshot before the
// latest and the latest (the Snapshot nodes' dates).
// param from: date = null  the earlier date (yyyy-mm-dd); left out, the snapshot before the latest
// param to: date = null  the later date (yyyy-mm-dd); left out, the latest snapshot
OPTIONAL MATCH (snapshot:Snapshot)
WITH snapshot.date AS date ORDER BY date DESC
WITH collect(date) AS dates
WITH coalesce($from, dates[1]) AS fromDate, coalesce($to, dates[0]) AS toDate
MATCH (l:Learner)-[:ENROLLED_IN]->(p:Program)
WHERE ($includeMissing OR l.missingSince IS NULL) AND fromDate IS NOT NULL AND toDate IS NOT NULL
WITH DISTINCT fromDate, toDate, p.name AS program, l
CALL (l, fromDate) {
  MATCH (l)-[r:HAS_LEARNING_STATE]->(s:LearningState)
  WHERE coalesce(r.validFrom, date('0001-01-01')) <= fromDate AND (r.validTo IS NULL OR r.validTo > fromDate)
  WITH s ORDER BY coalesce(r.validFrom, date('0001-01-01')) DESC
  RETURN collect(s.state)[0] AS before
}
CALL (l, toDate) {
  MATCH (l)-[r:HAS_LEARNING_STATE]->(s:LearningState)
  WHERE coalesce(r.validFrom, date('0001-01-01')) <= toDate AND (r.validTo IS NULL OR r.validTo > toDate)
  WITH s ORDER BY coalesce(r.validFrom, date('0001-01-01')) DESC
  RETURN collect(s.state)[0] AS after
}
RETURN program, fromDate, toDate, coalesce(before, '(none)') AS fromState,
       coalesce(after, '(none)') AS toState, count(l) AS learners
ORDER BY program, fromState, toState
