module github.com/helios-project/helios-scaffold

go 1.26
