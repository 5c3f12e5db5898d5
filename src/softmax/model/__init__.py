"""The problem description built once per fit: classes, targets, weights, penalty strength."""
