module example.com/gold

go 1.22
